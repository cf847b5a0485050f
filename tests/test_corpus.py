import json

import pytest

from tonecheck.errors import TrainingDataError
from tonecheck.training.corpus import Post, read_posts, read_real_posts, validate_posts


def _posts(n=10, **extra):
    labels = ["supportive", "promotional", "tone-deaf", "preventive"]
    return [Post(f"texte {lab} numéro {i}", lab, source=f"f.csv:{i}") for lab in labels for i in range(n)]


def test_valid_posts_pass():
    validate_posts(_posts())


def test_missing_columns_are_named(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("caption,label\nsalut,none\n", encoding="utf-8")
    with pytest.raises(TrainingDataError, match=r"missing column\(s\) \['text'\]"):
        read_posts(p)


def test_unknown_labels_list_rows():
    posts = [*_posts(), Post("a", "joyful", source="f.csv:99")]
    with pytest.raises(TrainingDataError, match=r"unknown label.*f\.csv:99 'joyful'"):
        validate_posts(posts)


def test_empty_texts_list_rows():
    with pytest.raises(TrainingDataError, match=r"empty text: f\.csv:7"):
        validate_posts([*_posts(), Post("  ", "supportive", source="f.csv:7")])


def test_same_text_with_two_labels_lists_both_rows():
    posts = [*_posts(), Post("Merci !", "supportive", source="a:1"), Post("merci  !", "promotional", source="a:2")]
    with pytest.raises(TrainingDataError, match=r"a:1 supportive vs a:2 promotional"):
        validate_posts(posts)


def test_too_few_examples_of_a_label():
    posts = [p for p in _posts() if p.label != "preventive"] + _posts(3)[-3:]
    with pytest.raises(TrainingDataError, match=r"fewer than 10 examples of: preventive \(3\)"):
        validate_posts(posts)


def test_jsonl_and_bad_json_line(tmp_path):
    p = tmp_path / "d.jsonl"
    p.write_text(json.dumps({"text": "a", "label": "none"}) + "\n{oops\n", encoding="utf-8")
    with pytest.raises(TrainingDataError, match=r"d\.jsonl:2: not valid JSON"):
        read_posts(p)


def test_real_posts_join_ids_with_texts(tmp_path):
    labels = tmp_path / "l.csv"
    texts = tmp_path / "t.csv"
    labels.write_text("id,label,confidence,split\n12,supportive,high,test\n", encoding="utf-8")
    texts.write_text('id,text\n12,"Merci\nà tous"\n13,autre\n', encoding="utf-8")
    [post] = read_real_posts(labels, texts)
    assert post.text == "Merci\nà tous" and post.label == "supportive" and post.split == "test" and post.is_real
    labels.write_text("id,label\n99,none\n", encoding="utf-8")
    with pytest.raises(TrainingDataError, match="not in"):
        read_real_posts(labels, texts)


def test_training_refuses_over_length_texts_and_extra_fields(tmp_path):
    from tonecheck import MAX_TEXT_LENGTH, TrainingDataError
    from tonecheck.training.corpus import read_posts, validate_posts

    path = tmp_path / "posts.csv"
    rows = ["text,label"] + [f"Merci aux soignants {i},supportive" for i in range(3)]
    rows.append("a" * (MAX_TEXT_LENGTH + 1) + ",supportive")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(TrainingDataError) as e:
        validate_posts(read_posts(path), min_per_label=0)
    assert "text over 50,000 characters" in str(e.value) and f"{path}:5" in str(e.value)
    path.write_text("\n".join([*rows[:4], "Lavez-vous les mains,preventive,en trop"]) + "\n", encoding="utf-8")
    with pytest.raises(TrainingDataError, match=r"posts.csv:5: malformed CSV: expected 2 fields, got 3"):
        read_posts(path)


def test_duplicates_are_dropped_once_each():
    from tonecheck.training.corpus import Post, without_duplicates

    posts = [Post("Merci  aux soignants", "supportive"), Post("merci aux soignants", "supportive"),
             Post("Lavez-vous les mains", "preventive")]
    kept, dropped = without_duplicates(posts)
    assert dropped == 1 and [p.text for p in kept] == ["Merci  aux soignants", "Lavez-vous les mains"]


def test_train_checks_the_output_folder_before_fitting(tmp_path):
    from tonecheck import ModelFileError
    from tonecheck.training.train import train_and_save

    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ModelFileError, match="cannot write the model to"):
        train_and_save(data=["does-not-matter.csv"], real_labels=None, real_texts=None, output=str(blocker / "model"))
