"""Batch scoring at scale, as a user runs it: `tonecheck score` on a CSV of never-seen posts.

    python benchmarks/batch_scale.py                     # 100k rows, --jobs 1 and 2; then 300k rows
    python benchmarks/batch_scale.py --rows 100000 1000000

Two of issue 13's targets, measured through the command line (a fresh process per run, the
shipped model, CSV in and out):
- ``--jobs 2`` against ``--jobs 1`` on the first size (wall clock; target ≥ 1.7×), run
  interleaved twice so that the machine's load falls on both alike;
- CPU time per row (the process and its workers: ``resource.getrusage``) from the smallest to
  the largest size, with ``--jobs 1`` (target: flat within ±10 %): caches that forget
  gradually should keep the cost of a row the same however long the job runs.

The posts are made by benchmarks/bench.py's generator (recombined corpus and real-pool text,
none equal to a corpus text) and written to a temporary folder that is removed afterwards.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # (the post generator)

TONECHECK = [sys.executable, "-m", "tonecheck"]


def run(src: Path, out: Path, jobs: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process and its children) of one `tonecheck score`."""
    out.unlink(missing_ok=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([*TONECHECK, "score", str(src), "-o", str(out), "--jobs", str(jobs)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 300_000],
                        help="file sizes; --jobs 1 vs 2 on the first (default: 100000 300000)")
    args = parser.parse_args()
    sizes = sorted(args.rows)
    posts, _ = bench.make_posts(sizes[-1], seed=29)
    print(f"{len(posts):,} distinct never-seen posts; load average {os.getloadavg()[0]:.2f} at start")
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for n in sizes:
            files[n] = Path(tmp) / f"posts_{n}.csv"
            with open(files[n], "w", encoding="utf-8", newline="") as f:
                w = csv.writer(f)
                w.writerow(["id", "text"])
                w.writerows((i, t) for i, t in enumerate(posts[:n]))
        out = Path(tmp) / "out.csv"
        n0 = sizes[0]
        walls: dict[int, list[float]] = {1: [], 2: []}
        cpu_small = []
        for _ in range(2):
            for jobs in (1, 2):
                wall, cpu = run(files[n0], out, jobs)
                walls[jobs].append(wall)
                if jobs == 1:
                    cpu_small.append(cpu / n0)
                print(f"  {n0:,} rows, --jobs {jobs}: {wall:.1f} s wall, {cpu:.1f} s CPU", flush=True)
        ratios = [a / b for a, b in zip(walls[1], walls[2], strict=True)]
        lines = [f"--jobs 2 vs --jobs 1 on {n0:,} rows: {statistics.median(ratios):.2f}× (runs: "
                 + ", ".join(f"{r:.2f}×" for r in ratios) + ") — target ≥ 1.7×: "
                 + ("met" if statistics.median(ratios) >= 1.7 else "NOT MET")]
        per_row = {n0: statistics.median(cpu_small)}
        for n in sizes[1:]:
            wall, cpu = run(files[n], out, 1)
            per_row[n] = cpu / n
            print(f"  {n:,} rows, --jobs 1: {wall:.1f} s wall, {cpu:.1f} s CPU", flush=True)
        for n in sizes[1:]:
            change = per_row[n] / per_row[n0] - 1
            lines.append(f"CPU per row, {n0:,} -> {n:,} rows (--jobs 1): {per_row[n0] * 1e3:.3f} -> "
                         f"{per_row[n] * 1e3:.3f} ms ({change:+.1%}) — target within ±10 %: "
                         + ("met" if abs(change) <= 0.10 else "NOT MET"))
    print(f"load average {os.getloadavg()[0]:.2f} at the end")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
