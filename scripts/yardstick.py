"""Run the real-only yardstick (leave-one-source-out) for candidate configurations.

    python scripts/yardstick.py [--only NAME ...] [--out reports/real_yardstick.md]
                                [--against reports/real_yardstick.json]

Needs ../shared/data/real beside the project (the real posts' texts). Prints one table
row per (candidate, source) with macro-F1, its 95 % bootstrap interval, per-label F1
(support) and the review flags, and writes them to --out. Candidates run --jobs at a time
(default two), each in a fresh process.

--against compares each candidate, post by post, with the same candidate in a saved run (its
.json): how a change of the data (a part added to data/parts/, the corpus rebuilt) is judged
against the shipped data's run.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace

ROOT = pathlib.Path(__file__).resolve().parent.parent
REAL_TEXTS = ROOT.parent / "shared" / "data" / "real"

# The configuration of tonecheck 0.1 (social-media text rules, spaCy lemmas, char 3-5, cues, LR C=30):
# every candidate below but the shipped one is a change of it.
BASE = {"text_rules": "social", "lemmas": True, "word_runs": False}
# The shipped configuration, TrainConfig()'s defaults, as changes of BASE.
SHIPPED = {"text_rules": "plain", "lemmas": False, "word_runs": True}

# name -> (what it changes, TrainConfig changes from BASE, normalisation variant)
CANDIDATES = {
    "shipped-config": ("the shipped configuration, TrainConfig(): text as written, words as runs of word "
                       "characters, no lemmas, char 3-5, cues, LR C=30", SHIPPED, "links"),
    "whole-spacy-tokens": ("the shipped configuration with whole spaCy tokens as words (word_runs=False: the "
                           "model shipped until 2026-12-02)", {**SHIPPED, "word_runs": False}, "links"),
    "shipped-real-x2": ("the shipped configuration, real posts weighted x2", {**SHIPPED, "real_weight": 2.0},
                        "links"),
    "shipped-no-cues": ("the shipped configuration without the crisis cue features",
                        {**SHIPPED, "cues": False}, "links"),
    "shipped-C10": ("the shipped configuration with C=10", {**SHIPPED, "C": 10.0}, "links"),
    "shipped-C100": ("the shipped configuration with C=100", {**SHIPPED, "C": 100.0}, "links"),
    "shipped-min-df-1": ("the shipped configuration with min_df=1", {**SHIPPED, "min_df": 1}, "links"),
    "shipped-tone-deaf-x0.5": ("the shipped configuration, tone-deaf class weighted x0.5",
                               {**SHIPPED, "tone_deaf_weight": 0.5}, "links"),
    "shipped-tone-deaf-x0.7": ("the shipped configuration, tone-deaf class weighted x0.7",
                               {**SHIPPED, "tone_deaf_weight": 0.7}, "links"),
    "social-text-lemmas": ("tonecheck 0.1's configuration: social-media text rules, spaCy lemmas", {}, "links"),
    "real-x3": ("real posts weighted x3", {"real_weight": 3.0}, "links"),
    "no-links": ("links and mentions removed from the text", {}, "no-links"),
    "no-links-real-x3": ("links and mentions removed, real posts x3", {"real_weight": 3.0}, "no-links"),
    "no-links-real-x3-C5": ("links and mentions removed, real posts x3, C=5", {"real_weight": 3.0, "C": 5.0},
                            "no-links"),
    "tone-deaf-x2": ("tone-deaf class weighted x2", {"tone_deaf_weight": 2.0}, "links"),
    "C3": ("stronger regularisation, C=3", {"C": 3.0}, "links"),
    "C10-tone-deaf-x2": ("C=10, tone-deaf class weighted x2", {"C": 10.0, "tone_deaf_weight": 2.0}, "links"),
    "no-cues": ("without the crisis cue conjunctions", {"cues": False}, "links"),
    "no-lemmas": ("spaCy tokens without lemmas", {"lemmas": False}, "links"),
    "no-lemmas-no-cues": ("spaCy tokens, no lemmas, no cues", {"lemmas": False, "cues": False}, "links"),
    "no-lemmas-no-links": ("spaCy tokens, no lemmas, links and mentions removed", {"lemmas": False}, "no-links"),
    "raw-text": ("no social-media normalisation (URLs, hashtags, codes, prices as written)", {}, "raw-text"),
    "raw-text-no-lemmas": ("no normalisation, no lemmas", {"lemmas": False}, "raw-text"),
    "no-hashtag-split": ("hashtags kept whole", {}, "without:split_hashtags"),
    "no-placeholders": ("no URL/mention/code/price/percent placeholders", {},
                        "without:replace_urls,replace_mentions,replace_promo_codes,replace_prices,"
                        "replace_percentages"),
    "plain-tfidf-lr": ("peer: scikit-learn TF-IDF words 1-2 + char_wb 3-5, LR (20 lines)", None, "raw"),
    # Experiments on branch exp (reports/experiments.md): everything on top of raw-text.
    "raw-real-x2": ("raw-text, real posts weighted x2", {"real_weight": 2.0}, "raw-text"),
    "raw-real-x3": ("raw-text, real posts weighted x3", {"real_weight": 3.0}, "raw-text"),
    "raw-real-x5": ("raw-text, real posts weighted x5", {"real_weight": 5.0}, "raw-text"),
    "raw-C10": ("raw-text, C=10", {"C": 10.0}, "raw-text"),
    "raw-C100": ("raw-text, C=100", {"C": 100.0}, "raw-text"),
    "raw-tone-deaf-x2": ("raw-text, tone-deaf class weighted x2", {"tone_deaf_weight": 2.0}, "raw-text"),
    "raw-no-cues": ("raw-text, without the crisis cue features", {"cues": False}, "raw-text"),
    "raw-char-2-5": ("raw-text, character n-grams 2-5", {"char_ngrams": (2, 5)}, "raw-text"),
    "raw-char-3-6": ("raw-text, character n-grams 3-6", {"char_ngrams": (3, 6)}, "raw-text"),
    "raw-no-char": ("raw-text, no character n-grams", {"char_ngrams": None}, "raw-text"),
    "raw-min-df-1": ("raw-text, min_df=1", {"min_df": 1}, "raw-text"),
    "raw-min-df-3": ("raw-text, min_df=3", {"min_df": 3}, "raw-text"),
    "raw-no-lemmas-real-x3": ("raw-text, no lemmas, real posts weighted x3",
                              {"lemmas": False, "real_weight": 3.0}, "raw-text"),
    "raw-no-lemmas-min-df-1": ("raw-text, no lemmas, min_df=1", {"lemmas": False, "min_df": 1}, "raw-text"),
    "url-mention-only": ("raw-text but URLs and @mentions still become xxurl / xxmention",
                         {}, "only:replace_urls,replace_mentions"),
}


def drop_links() -> None:
    """Links and @mentions become white space instead of a placeholder token."""
    from tonecheck import normalise as nz

    def blank(m):
        return [(" ", m.start(), m.end())]

    nz._RULES[:] = [(n, p, blank if n in ("replace_urls", "replace_mentions") else r, c) for n, p, r, c in nz._RULES]
    nz._RULE_BY_NAME.update({n: (p, r) for n, p, r, _ in nz._RULES})


def without_rules(*names: str) -> None:
    from tonecheck import normalise as nz

    nz._RULES[:] = [rule for rule in nz._RULES if rule[0] not in names]


def load_posts():
    from tonecheck.training.corpus import read_posts, read_real_posts

    return read_posts(ROOT / "data" / "authored.csv") + read_real_posts(ROOT / "data" / "real_labels.csv", REAL_TEXTS)


def plain_peer(posts):
    """The 20-line scikit-learn pipeline a practitioner would try first, leave-one-source-out."""
    import numpy as np
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from tonecheck.labels import OUT_OF_SCOPE
    from tonecheck.training.yardstick import SourceResult, real_source

    results = []
    for source in sorted({s for s in map(real_source, posts) if s}):
        t0 = time.perf_counter()
        train = [p for p in posts if real_source(p) != source]
        test = [p for p in posts if real_source(p) == source]
        words = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
        chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=2, sublinear_tf=True)
        train_texts = [p.text for p in train]
        Xtr = hstack([words.fit_transform(train_texts), chars.fit_transform(train_texts)]).tocsr()
        Xte = hstack([words.transform([p.text for p in test]), chars.transform([p.text for p in test])]).tocsr()
        y = np.array([p.label for p in train])
        keep = y != OUT_OF_SCOPE
        clf = LogisticRegression(C=30, max_iter=3000).fit(Xtr[keep], y[keep])
        scope = LogisticRegression(C=30, max_iter=3000, class_weight="balanced").fit(Xtr, keep.astype(int))
        order = [list(clf.classes_).index(lab) for lab in ("supportive", "promotional", "tone-deaf", "preventive")]
        results.append(SourceResult(source, np.array([p.label for p in test]), clf.predict_proba(Xte)[:, order],
                                    scope.predict_proba(Xte)[:, 1], np.array([p.meta.get("crisis", "") for p in test]),
                                    time.perf_counter() - t0))
    return results


def run(name: str) -> tuple[str, dict, float]:
    from tonecheck.normalise import RULE_SETS
    from tonecheck.training.config import TrainConfig
    from tonecheck.training.fitting import prepare
    from tonecheck.training.yardstick import leave_one_source_out, summarise

    t0 = time.perf_counter()
    _, changes, variant = CANDIDATES[name]
    if changes is not None and variant == "raw-text":  # what `text_rules="plain"` trains (no patching)
        changes = {**changes, "text_rules": "plain"}
    elif changes is not None and variant.startswith("only:"):
        changes = {**changes, "text_rules": (*RULE_SETS["plain"], *variant.split(":")[1].split(","))}
    elif variant == "no-links":
        drop_links()
    elif variant.startswith("without:"):
        without_rules(*variant.split(":")[1].split(","))
    posts = load_posts()
    if changes is None:
        results = plain_peer(posts)
    else:
        config = replace(TrainConfig(), **{**BASE, **changes})
        ready = prepare([p.text for p in posts], config)
        results = leave_one_source_out(posts, config, analyses=ready.analyses, lemma_table=ready.lemma_table,
                                       special_cases=ready.special_cases, say=lambda *a: None)
    summary = summarise(results)
    # Pooled in-scope labels and predictions (labels only, no text), in a fixed post order, so
    # that two candidates can be compared post by post (a paired bootstrap of the difference).
    import numpy as np

    from tonecheck.labels import LABELS, OUT_OF_SCOPE

    y = np.concatenate([r.y for r in results])
    pred = np.asarray(LABELS)[np.concatenate([r.proba for r in results]).argmax(axis=1)]
    keep = y != OUT_OF_SCOPE
    summary["predictions"] = {"y": y[keep].tolist(), "pred": pred[keep].tolist()}
    return name, summary, time.perf_counter() - t0


def paired_lines(reference: str, summaries: dict, paired_difference) -> list[str]:
    """Each candidate against the first one on the same posts (a paired bootstrap)."""
    import numpy as np

    ref = summaries[reference]["predictions"]
    lines = ["", f"## Paired differences against `{reference}` (same posts resampled for both)", "",
             "| candidate | macro-F1 difference [95 % CI] | resamples where it is ahead |", "|---|---|---|"]
    for name, summary in summaries.items():
        if name == reference:
            continue
        pred = summary["predictions"]
        if pred["y"] != ref["y"]:  # pragma: no cover - every candidate sees the same posts in the same order
            continue
        d = paired_difference(np.array(ref["y"]), np.array(ref["pred"]), np.array(pred["pred"]))
        lines.append(f"| {name} | {d['difference']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}] | {d['b_ahead']:.0%} |")
    return lines


def against_lines(saved: str, summaries: dict, paired_difference) -> list[str]:
    """Each candidate against the same candidate in a saved run (a paired bootstrap)."""
    import numpy as np

    before = json.loads(pathlib.Path(saved).read_text(encoding="utf-8"))
    lines = ["", f"## Paired differences against the same candidates in `{saved}`", "",
             "| candidate | macro-F1 then → now | difference [95 % CI] | resamples where now is ahead "
             "| none / in-scope flagged, then → now |", "|---|---|---|---|---|"]
    for name, summary in summaries.items():
        then = before.get(name)
        if then is None or then["predictions"]["y"] != summary["predictions"]["y"]:
            lines.append(f"| {name} | not in the saved run, or on other posts | | | |")
            continue
        d = paired_difference(np.array(then["predictions"]["y"]), np.array(then["predictions"]["pred"]),
                              np.array(summary["predictions"]["pred"]))
        a, b = then["pooled"], summary["pooled"]
        lines.append(f"| {name} | {a['macro_f1']:.3f} → {b['macro_f1']:.3f} "
                     f"| {d['difference']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}] | {d['b_ahead']:.0%} "
                     f"| {a['none_flagged']:.0%} / {a['in_scope_flagged']:.0%} → "
                     f"{b['none_flagged']:.0%} / {b['in_scope_flagged']:.0%} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    from tonecheck.training.yardstick import format_summary, paired_difference

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=sorted(CANDIDATES))
    parser.add_argument("--out", default=str(ROOT / "reports" / "real_yardstick.md"))
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--against", help="a saved run's .json: compare each candidate with it, post by post")
    args = parser.parse_args(argv)
    if not REAL_TEXTS.is_dir():
        print(f"the real posts' texts are missing: {REAL_TEXTS} (the shared folder beside the project)",
              file=sys.stderr)
        return 2
    names = args.only or list(CANDIDATES)
    t0 = time.perf_counter()
    # One process per candidate: the variants patch module state (the normalisation rules) and
    # tonecheck.reading caches analyses per text, so a reused worker would carry one candidate's
    # normalisation into the next.
    with ProcessPoolExecutor(args.jobs, max_tasks_per_child=1) as pool:
        done = list(pool.map(run, names))
    lines = ["# Real-only yardstick: leave-one-source-out", "",
             "Each row: trained on the authored corpus and the *other* real sources, judged on one real source "
             "(in-scope posts; `none` posts only for the flags). Macro-F1 with a 95 % bootstrap interval "
             "(1,000 resamples of posts); per-label F1 (support), with its 95 % interval on the pooled line; "
             "review flags: share of `none` posts / of "
             "in-scope posts flagged out of scope, at the scope threshold chosen on these pooled predictions; "
             "ECE: expected calibration error of the top label's probability on the in-scope posts "
             "(10 equal-width bins).", "",
             f"Made by `python scripts/yardstick.py` in {time.perf_counter() - t0:.0f} s.", "",
             "| candidate | source | in-scope posts | macro-F1 [95 % CI] | per-label F1 (support) "
             "| none / in-scope flagged | ECE |",
             "|---|---|---|---|---|---|---|"]
    summaries = {}
    for name, summary, seconds in done:
        summaries[name] = {**summary, "seconds": seconds}
        lines += format_summary(name, summary)
    lines += ["", "Candidates:", ""] + [f"- `{n}`: {CANDIDATES[n][0]} ({s:.0f} s)" for n, _, s in done]
    crisis_lines = ["", "## The quoted press posts by crisis (out-of-source predictions)", "",
                    "| candidate | crisis | in-scope posts | macro-F1 [95 % CI] |", "|---|---|---|---|"]
    for name, summary in summaries.items():
        for crisis, b in summary["crises"].items():
            lo, hi = b["interval"]
            crisis_lines.append(f"| {name} | {crisis} | {b['n']} | {b['macro_f1']:.3f} [{lo:.3f}, {hi:.3f}] |")
    lines += crisis_lines
    lines += paired_lines(names[0], summaries, paired_difference)
    if args.against:
        lines += against_lines(args.against, summaries, paired_difference)
    text = "\n".join(lines) + "\n"
    pathlib.Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    pathlib.Path(args.out).write_text(text, encoding="utf-8")
    pathlib.Path(args.out).with_suffix(".json").write_text(json.dumps(summaries, indent=1), encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
