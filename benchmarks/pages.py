"""tonecheck pages benchmark: API latency on a real server, and a 20,000-row review report.

    make bench-pages                # or: python benchmarks/pages.py [--requests 2000] [--concurrency 8] [--rows 20000]

1. Starts `tonecheck serve` (uvicorn, 127.0.0.1, a free port) in its own process and sends it
   a bounded number of `POST /v1/assess` requests (default 2,000, 8 at a time over keep-alive
   connections, each with a 10 s timeout, the whole loop stopped after 5 minutes at most),
   after 100 warm-up requests; prints p50/p90/p99/max latency and the request rate, then
   300 requests one at a time (latency without queueing). For scale, the same captions
   through `tonecheck.assess()` in this process.
2. Writes a CSV of 20,000 captions, scores it (`tonecheck score`), writes its report
   (`tonecheck report`), and opens the report in headless Chromium (3 times, median) when
   /usr/bin/chromium and /usr/bin/chromedriver are there.
Traffic goes to 127.0.0.1 only; the server is stopped at the end.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1280,1000",
]


def captions(n: int) -> list[str]:
    """``n`` distinct captions: the authored corpus, then again with a day-of-crisis hashtag."""
    with open(ROOT / "data" / "authored.csv", encoding="utf-8", newline="") as f:
        base = [r["text"] for r in csv.DictReader(f)]
    return [base[k % len(base)] + ("" if k < len(base) else f" #Jour{k // len(base)}") for k in range(n)]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def start_server() -> tuple[subprocess.Popen, str, int]:
    proc = subprocess.Popen([str(BIN / "tonecheck"), "serve", "--port", "0"], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "http://" not in line:
        proc.kill()
        raise SystemExit(f"tonecheck serve did not start: {line!r}")
    url = next(w for w in line.split() if w.startswith("http://"))
    host, port = url[len("http://"):].rstrip("/").rsplit(":", 1)
    return proc, host, int(port)


def load(host: str, port: int, texts: list[str], concurrency: int, deadline: float) -> tuple[list[float], int, float]:
    """Send every text once, ``concurrency`` at a time; latencies (s), errors, wall time (s)."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    queue = iter(enumerate(texts))

    def worker() -> None:
        nonlocal errors
        conn = http.client.HTTPConnection(host, port, timeout=10)
        try:
            while time.monotonic() < deadline:
                with lock:
                    item = next(queue, None)
                if item is None:
                    return
                body = json.dumps({"text": item[1]}).encode()
                t0 = time.perf_counter()
                try:
                    conn.request("POST", "/v1/assess", body, {"Content-Type": "application/json"})
                    resp = conn.getresponse()
                    payload = resp.read()
                    ok = resp.status == 200 and b'"label"' in payload
                except (OSError, http.client.HTTPException):
                    ok = False
                    conn.close()
                    conn = http.client.HTTPConnection(host, port, timeout=10)
                elapsed = time.perf_counter() - t0
                with lock:
                    if ok:
                        latencies.append(elapsed)
                    else:
                        errors += 1
        finally:
            conn.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors, time.perf_counter() - t0


def bench_api(requests: int, concurrency: int) -> list[tuple[str, str]]:
    import tonecheck

    texts = captions(100 + requests + 300)  # warm-up, the load, one at a time: no text sent twice
    proc, host, port = start_server()
    try:
        load(host, port, texts[:100], concurrency, time.monotonic() + 60)  # warm-up
        latencies, errors, wall = load(host, port, texts[100:100 + requests], concurrency, time.monotonic() + 300)
        alone, alone_errors, _ = load(host, port, texts[100 + requests:], 1, time.monotonic() + 120)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    ms = [x * 1000 for x in latencies]
    sample = captions(100 + requests + 800)[-500:]  # captions neither the server nor this process saw
    tonecheck.assess(texts[0])
    direct = []
    for t in sample:
        t0 = time.perf_counter()
        tonecheck.assess(t)
        direct.append((time.perf_counter() - t0) * 1000)
    return [
        (f"POST /v1/assess, {len(ms):,} requests, {concurrency} concurrent (errors: {errors})",
         f"p50 {percentile(ms, 0.5):.1f} ms · p90 {percentile(ms, 0.9):.1f} ms · "
         f"p99 {percentile(ms, 0.99):.1f} ms · max {max(ms):.1f} ms"),
        ("  request rate", f"{len(ms) / wall:,.0f} requests/s"),
        (f"POST /v1/assess, {len(alone):,} requests one at a time (errors: {alone_errors})",
         f"p50 {percentile(alone, 0.5) * 1000:.1f} ms · p99 {percentile(alone, 0.99) * 1000:.1f} ms"),
        (f"  for scale: assess() in one process, {len(direct)} calls",
         f"p50 {percentile(direct, 0.5):.2f} ms · p99 {percentile(direct, 0.99):.2f} ms"),
    ]


def open_in_chromium(path: Path, rounds: int = 3) -> tuple[float, float, float] | None:
    """Median seconds to open ``path`` until its first page is drawn, the page script's own time
    (ms after navigation start), and seconds to apply a label filter; None without Chromium."""
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    if not (os.access(chromium, os.X_OK) and os.access(driver_path, os.X_OK)):
        return None
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import Select, WebDriverWait
    except ImportError:
        return None
    opened, ready, filtered = [], [], []
    for _ in range(rounds):
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for flag in CHROMIUM_FLAGS:
            options.add_argument(flag)
        profile = tempfile.mkdtemp(prefix="tonecheck-chromium-")
        options.add_argument(f"--user-data-dir={profile}")
        driver = webdriver.Chrome(options=options, service=Service(driver_path))
        try:
            t0 = time.perf_counter()
            driver.get(path.as_uri())
            WebDriverWait(driver, 60).until(
                lambda d: d.execute_script("return document.documentElement.dataset.ready") == "1"
            )
            opened.append(time.perf_counter() - t0)
            ready.append(driver.execute_script("return window.tonecheckReady"))
            t0 = time.perf_counter()
            Select(driver.find_element(By.ID, "f-label")).select_by_value("promotional")
            driver.find_elements(By.CSS_SELECTOR, "#cards article.card")
            filtered.append(time.perf_counter() - t0)
        finally:
            driver.quit()
            shutil.rmtree(profile, ignore_errors=True)
    return statistics.median(opened), statistics.median(ready), statistics.median(filtered)


def bench_report(rows: int) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="tonecheck-pages-bench-") as tmp:
        src, scored, report = Path(tmp, "drafts.csv"), Path(tmp, "scored.csv"), Path(tmp, "review.html")
        with open(src, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(["id", "date", "channel", "text"])
            for k, text in enumerate(captions(rows)):
                channel = ("instagram", "x", "facebook", "linkedin")[k % 4]
                w.writerow([f"d{k:05d}", f"2020-03-{1 + k % 28:02d}", channel, text])
        t0 = time.perf_counter()
        subprocess.run([str(BIN / "tonecheck"), "score", str(src), "-o", str(scored), "--no-progress"], check=True)
        out.append((f"tonecheck score, {rows:,} rows (for scale)", f"{time.perf_counter() - t0:.1f} s"))
        t0 = time.perf_counter()
        subprocess.run([str(BIN / "tonecheck"), "report", str(scored), "-o", str(report)], check=True,
                       stderr=subprocess.DEVNULL)
        whole = time.perf_counter() - t0

        from tonecheck.pages.review import write_report_from_scored

        inner = statistics.median(write_report_from_scored(scored, Path(tmp, "again.html")).seconds for _ in range(3))
        out.append((f"tonecheck report, {rows:,} rows: read the scored CSV and write the HTML",
                    f"{inner:.2f} s (median of 3); {whole:.1f} s for the whole command"))
        out.append(("  report file size",
                    f"{report.stat().st_size / 1e6:.1f} MB (scored CSV: {scored.stat().st_size / 1e6:.1f} MB)"))
        opened = open_in_chromium(report)
        if opened is None:
            out.append(("  open in headless Chromium", "skipped: chromium or chromedriver or selenium missing"))
        else:
            out.append(("  open in headless Chromium until the first page is drawn (median of 3)",
                        f"{opened[0]:.2f} s (page script done {opened[1]:.0f} ms after navigation start)"))
            out.append((f"  filter the {rows:,} rows by label and redraw", f"{opened[2] * 1000:.0f} ms"))
        t0 = time.perf_counter()
        subprocess.run([str(BIN / "tonecheck"), "score", str(src), "--html", str(report), "--no-progress"], check=True,
                       stderr=subprocess.DEVNULL)
        out.append((f"tonecheck score --html, {rows:,} rows, end to end", f"{time.perf_counter() - t0:.1f} s"))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args()
    rows = bench_api(args.requests, args.concurrency) + bench_report(args.rows)
    width = max(len(name) for name, _ in rows)
    print(f"tonecheck pages benchmark ({os.cpu_count()} cores, Python {sys.version.split()[0]})")
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
