"""The pages as a person uses them, in headless Debian Chromium driven by Selenium.

Skipped when Chromium or its driver is missing (``make browser`` installs them), except
when ``TONECHECK_REQUIRE_BROWSER=1`` (CI), where a missing browser fails. Screenshots go to
``$TONECHECK_SCREENSHOTS`` (``make screenshots`` sets it to docs/) or a temporary folder.
"""

import csv
import os
import shutil
import threading
import time
from pathlib import Path

import pytest

import tonecheck
from tonecheck.pages.review import rows_from_assessments, write_report
from tonecheck.pages.scored import ScoredRow

ROOT = Path(__file__).resolve().parent.parent
TONE_DEAF = "Restez chez vous et profitez de -30 % avec le code RESTEZCHEZVOUS"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1280,1000",
]


def _missing(reason: str):
    if os.environ.get("TONECHECK_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (TONECHECK_REQUIRE_BROWSER=1: the browser tests must run)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _missing("selenium is not installed: pip install -e '.[pages-test]'")
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    chromedriver = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    if not (os.access(chromium, os.X_OK) and os.access(chromedriver, os.X_OK)):
        _missing("headless Chromium is not installed: `make browser` (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    browser = webdriver.Chrome(options=options, service=Service(chromedriver))
    browser.set_page_load_timeout(60)
    yield browser
    browser.quit()


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    folder = Path(os.environ.get("TONECHECK_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def live_url():
    """`tonecheck serve`'s app on a real uvicorn server, 127.0.0.1 and a free port."""
    pytest.importorskip("uvicorn", reason="the serve extra is not installed: pip install 'tonecheck[serve]'")
    import uvicorn

    from tonecheck.pages.server import (
        _loopback_names,
        bind_socket,
        create_app,
        page_url,
    )

    sock = bind_socket("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(create_app(allowed_hosts=_loopback_names("127.0.0.1")), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.05)
    yield page_url(sock)
    server.should_exit = True
    thread.join(10)
    sock.close()


def _wait(driver, condition, timeout=15):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(lambda d: condition(d))


def _by_css(driver, selector):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, selector)


def _one(driver, selector):
    found = _by_css(driver, selector)
    assert found, f"nothing matches {selector}"
    return found[0]


def _console_errors(driver):
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def _type_draft(driver, text):
    """Type like a person, count the requests the page sends, wait for the answer to `text`."""
    box = _one(driver, "#draft")
    driver.execute_script(
        "window.__assessCalls = 0; if (!window.__fetch) { window.__fetch = window.fetch; }"
        "window.fetch = function () { window.__assessCalls++; return window.__fetch.apply(this, arguments); };"
    )
    box.clear()
    box.send_keys(text)
    _wait(driver, lambda d: _one(d, "#result").get_attribute("data-state") == "done"
          and _one(d, "#result").get_attribute("data-text") == text)
    return driver.execute_script("return window.__assessCalls")


# --- the live page --------------------------------------------------------------------------

def test_typing_a_tone_deaf_draft_shows_tone_deaf_and_highlights_its_words(driver, live_url, shots):
    driver.get(live_url)
    calls = _type_draft(driver, TONE_DEAF)
    assert calls <= 2, f"{calls} requests while typing: the page does not debounce"
    assert _one(driver, "#label").text == "tone-deaf"
    marks = _by_css(driver, "#evidence-text mark")
    words = [m.text for m in marks]
    assert {"-30", "code"} <= set(words)
    assert all("poids" in m.get_attribute("title") and "tone-deaf" in m.get_attribute("title") for m in marks)
    assert _one(driver, "#evidence-text").text == TONE_DEAF  # the whole text, in place
    bars = _by_css(driver, "#probs .track")
    assert [b.get_attribute("data-label") for b in bars] == ["tone-deaf", "preventive", "supportive", "promotional"]
    assert max(bars, key=lambda b: float(b.get_attribute("data-p"))).get_attribute("data-label") == "tone-deaf"
    assert not _one(driver, "#review-flag").is_displayed()
    assert _console_errors(driver) == []  # no script error, nothing refused by the page's CSP
    driver.save_screenshot(str(shots / "live-page.png"))


def test_the_verdict_follows_the_text_as_it_changes(driver, live_url):
    driver.get(live_url)
    _type_draft(driver, "Un immense merci à tous les soignants ❤️")
    assert _one(driver, "#label").text == "supportive"
    # an emoji before the words: offsets in code points must still land on the words
    _type_draft(driver, "🦠🦠 Lavez-vous les mains et gardez vos distances")
    assert _one(driver, "#label").text == "preventive"
    assert "Lavez" in [m.text for m in _by_css(driver, "#evidence-text mark")]
    _one(driver, "#draft").clear()
    _one(driver, "#draft").send_keys(" ")
    _wait(driver, lambda d: _one(d, "#result").get_attribute("data-state") == "empty")
    assert not _one(driver, "#verdict").is_displayed()


def test_an_out_of_scope_draft_shows_the_review_reasons(driver, live_url):
    driver.get(live_url)
    _type_draft(driver, "Quelqu'un sait à quelle heure ouvre la poste demain ?")
    if _one(driver, "#review-flag").is_displayed():
        reasons = [li.get_attribute("data-reason") for li in _by_css(driver, "#reasons li")]
        assert reasons and set(reasons) <= {"unsure", "close-call", "out-of-scope", "not-french", "no-words"}
    result = tonecheck.assess("Quelqu'un sait à quelle heure ouvre la poste demain ?")
    assert _one(driver, "#review-flag").is_displayed() == result.needs_review


def test_the_label_guide_is_one_click_away(driver, live_url, shots):
    driver.get(live_url)
    _one(driver, "#open-guide").click()
    dialog = _one(driver, "dialog#guide")
    _wait(driver, lambda d: dialog.get_attribute("open") is not None)
    text = dialog.text
    for label in ["tone-deaf", "preventive", "supportive", "promotional"]:
        assert label in text
    assert "exploite la crise pour vendre" in text
    driver.save_screenshot(str(shots / "label-guide.png"))
    _one(driver, "dialog#guide [data-close]").click()
    _wait(driver, lambda d: dialog.get_attribute("open") is None)


def test_a_too_long_draft_gets_a_message_not_a_request(driver, live_url):
    driver.get(live_url)
    driver.execute_script(
        "var t = document.getElementById('draft'); t.value = 'a'.repeat(arguments[0]);"
        "t.dispatchEvent(new Event('input'));", tonecheck.MAX_TEXT_LENGTH + 1)
    _wait(driver, lambda d: _one(d, "#result").get_attribute("data-state") == "error")
    assert "maximum" in _one(driver, "#error").text


def test_an_example_button_assesses_at_once(driver, live_url):
    driver.get(live_url)
    _one(driver, "button.example").click()
    _wait(driver, lambda d: _one(d, "#result").get_attribute("data-state") == "done")
    assert _one(driver, "#label").text == "tone-deaf"


# --- the review report ----------------------------------------------------------------------

HOSTILE = '<img src=x onerror="window.pwned=1"> Restez chez vous : -40 % avec le code CONFINEMENT40 !'


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """A report of 60 authored posts (one of each part of the corpus) plus hostile and emoji ones."""
    with open(ROOT / "data" / "authored.csv", encoding="utf-8", newline="") as f:
        posts = list(csv.DictReader(f))
    texts = [p["text"] for p in posts[::max(1, len(posts) // 60)]][:60]
    texts += [HOSTILE, "🦠🦠 " + TONE_DEAF, " ", "Un immense merci à tous les soignants ❤️"]  # the search test looks for it
    results = list(tonecheck.assess_many(texts, errors="mark"))
    columns = [{"id": f"p{k:03d}", "date": f"2020-03-{10 + k % 20:02d}", "channel": ("instagram", "x", "facebook")[k % 3]}
               for k in range(len(texts))]
    rows = rows_from_assessments(texts, results, columns)
    path = tmp_path_factory.mktemp("report") / "review.html"
    write_report(rows, path, ["id", "date", "channel"], source="drafts.csv", metadata=tonecheck.load_model().metadata)
    return path, texts, results


def _open_report(driver, path):
    driver.get(path.as_uri())
    _wait(driver, lambda d: d.execute_script("return document.documentElement.dataset.ready") == "1")


def _cards(driver):
    return _by_css(driver, "#cards article.card")


def _select(driver, selector, value):
    from selenium.webdriver.support.ui import Select

    Select(_one(driver, selector)).select_by_value(value)


def test_report_lists_risky_drafts_first(driver, report, shots):
    path, texts, results = report
    _open_report(driver, path)
    cards = _cards(driver)
    assert len(cards) == 50  # the first page
    labels = [c.get_attribute("data-label") for c in cards]
    reviews = [c.get_attribute("data-review") for c in cards]
    n_tone_deaf = sum(r.label is not None and r.label.value == "tone-deaf" for r in results)
    assert labels[:n_tone_deaf] == ["tone-deaf"] * n_tone_deaf
    flagged = [k for k, (lab, rev) in enumerate(zip(labels, reviews, strict=True)) if lab == "tone-deaf" and rev == "1"]
    assert flagged == list(range(len(flagged)))  # tone-deaf and to review: on top
    assert f"{len(texts)} brouillons" in _one(driver, "[data-role=count]").text
    assert _console_errors(driver) == []
    driver.save_screenshot(str(shots / "review-report.png"))


def test_filter_by_label_shows_only_those_rows(driver, report):
    path, _texts, results = report
    _open_report(driver, path)
    for label in ["promotional", "tone-deaf", "supportive", "preventive"]:
        _select(driver, "#f-label", label)
        cards = _cards(driver)
        expected = sum(r.label is not None and r.label.value == label for r in results)
        assert expected > 0
        assert len(cards) == expected
        assert {c.get_attribute("data-label") for c in cards} == {label}
        assert all(_one(c, "[data-role=label]").text == label for c in cards)
    _select(driver, "#f-label", "error")
    assert [c.get_attribute("data-label") for c in _cards(driver)] == ["error"]


def test_filter_by_review_and_search_text(driver, report):
    path, texts, results = report
    _open_report(driver, path)
    _select(driver, "#f-review", "yes")
    assert len(_cards(driver)) == sum(r.needs_review for r in results)
    assert {c.get_attribute("data-review") for c in _cards(driver)} <= {"1"}
    _one(driver, "#f-reset").click()
    box = _one(driver, "#f-search")
    box.send_keys("SOIGNANTS")  # case- and accent-insensitive
    expected = [t for t in texts if "soignants" in t.lower()]
    assert expected
    _wait(driver, lambda d: len(_cards(d)) == len(expected))
    assert all("soignants" in _one(c, ".post-text").text.lower() for c in _cards(driver))


def test_hostile_text_is_shown_as_text_and_never_runs(driver, report):
    path, _texts, _results = report
    _open_report(driver, path)
    _one(driver, "#f-search").send_keys("onerror")
    _wait(driver, lambda d: len(_cards(d)) == 1)
    card = _cards(driver)[0]
    assert _one(card, ".post-text").text == HOSTILE
    assert not _by_css(driver, "#cards img")
    assert driver.execute_script("return window.pwned") is None


def test_report_highlights_evidence_in_place_after_emoji(driver, report):
    path, texts, results = report
    _open_report(driver, path)
    _one(driver, "#f-search").send_keys("🦠")
    _wait(driver, lambda d: len(_cards(d)) == 1)
    card = _cards(driver)[0]
    expected = {e.text for e in results[texts.index("🦠🦠 " + TONE_DEAF)].evidence}
    assert {m.text for m in _by_css(card, "mark.ev")} == expected
    assert _one(card, ".post-text").text == "🦠🦠 " + TONE_DEAF


def test_summary_bar_filters_the_list(driver, report):
    path, _texts, _results = report
    _open_report(driver, path)
    _one(driver, '[data-filter-label="preventive"]').click()
    assert {c.get_attribute("data-label") for c in _cards(driver)} == {"preventive"}
    assert _one(driver, "#f-label").get_attribute("value") == "preventive"


def test_an_empty_report_says_so(driver, tmp_path):
    write_report([], tmp_path / "empty.html")
    _open_report(driver, tmp_path / "empty.html")
    assert "Aucun brouillon" in _one(driver, "#cards").text
    assert _console_errors(driver) == []


def test_sort_by_a_column(driver, report):
    path, texts, _results = report
    _open_report(driver, path)
    _select(driver, "#f-sort", "col:0:desc")
    first = _cards(driver)[0]
    assert f"p{len(texts) - 1:03d}" in first.text  # the last id sorts first, descending


def test_a_20000_row_report_opens_and_pages_quickly(driver, tmp_path, shots):
    rows = [
        ScoredRow(line=k + 2, text=f"Brouillon numéro {k} : merci aux soignants et restez chez vous",
                  label=("tone-deaf", "supportive", "promotional", "preventive")[k % 4],
                  scores=(0.1, 0.1, 0.7, 0.1), needs_review=k % 9 == 0, review_reasons=("unsure",) if k % 9 == 0 else (),
                  evidence=(("merci", 20 + len(str(k)), 25 + len(str(k)), 1.2),), error="", columns={"id": str(k)})
        for k in range(20_000)
    ]
    stats = write_report(rows, tmp_path / "big.html", ["id"])
    t0 = time.perf_counter()
    _open_report(driver, tmp_path / "big.html")
    opened = time.perf_counter() - t0
    ready_ms = driver.execute_script("return window.tonecheckReady")
    print(f"20,000 rows: {stats.bytes / 1e6:.1f} MB, written in {stats.seconds:.2f} s, opened in {opened:.2f} s "
          f"(page script done {ready_ms:.0f} ms after navigation start)")
    assert opened < 15
    assert "page 1 sur 400" in _one(driver, "#pager-top [data-role=page]").text
    _one(driver, "#pager-top [data-page=next]").click()
    assert "#51" in _cards(driver)[0].text
    _one(driver, "#pager-top [data-page=last]").click()
    assert "page 400 sur 400" in _one(driver, "#pager-top [data-role=page]").text
    assert all("merci" in [m.text for m in _by_css(c, "mark")] for c in _cards(driver))
    t0 = time.perf_counter()
    _select(driver, "#f-label", "preventive")
    assert time.perf_counter() - t0 < 3
    assert "5 000 brouillons sur 20 000" in _one(driver, "[data-role=count]").text.replace("\u202f", " ")
