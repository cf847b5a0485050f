"""The batch language check answers what the check of each post answers."""

from tonecheck.language import looks_french, looks_french_many
from tonecheck.reading import Analysis


def test_looks_french_many_is_looks_french_of_each():
    texts = ["Merci à tous les soignants", "the cat is on the table and you are", "Привет мир как дела тебя",
             "el perro y la casa con una", "Спасибо merci", "", "ΣΑΣ ΟΔΟΣ the and", "xxthe the and of"]
    analyses = [Analysis(t, t, ()) for t in texts]
    assert looks_french_many(analyses) == [looks_french(a) for a in analyses]
    assert looks_french_many([]) == []
