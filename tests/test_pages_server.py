"""tonecheck.pages.server: the JSON API and the live page, through FastAPI's TestClient;
`tonecheck serve` as a real process."""

import csv
import json
import os
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the serve extra is not installed: pip install 'tonecheck[serve]'")
from fastapi.testclient import TestClient

import tonecheck
from tonecheck.pages.api import MAX_BATCH_ITEMS, MAX_BODY_BYTES
from tonecheck.pages.server import create_app

ROOT = Path(__file__).resolve().parent.parent
TONE_DEAF = "Restez chez vous et profitez de -30 % avec le code RESTEZCHEZVOUS"
LABELS = {"supportive", "promotional", "tone-deaf", "preventive"}


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app()) as c:
        yield c


def _check_result(body: dict) -> None:
    assert set(body) == {"label", "scores", "needs_review", "review_reasons", "in_scope", "evidence"}
    assert body["label"] in LABELS and set(body["scores"]) == LABELS
    assert sum(body["scores"].values()) == pytest.approx(1.0, abs=1e-4)
    assert isinstance(body["needs_review"], bool) and isinstance(body["review_reasons"], list)
    for e in body["evidence"]:
        assert set(e) == {"text", "start", "end", "weight"} and e["weight"] > 0


def test_assess_gives_the_label_scores_and_evidence(client):
    r = client.post("/v1/assess", json={"text": TONE_DEAF})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    body = r.json()
    _check_result(body)
    assert body["label"] == "tone-deaf"
    assert {"-30", "code"} <= {e["text"] for e in body["evidence"]}
    assert all(TONE_DEAF[e["start"]:e["end"]] == e["text"] for e in body["evidence"])


def test_assess_answers_as_the_library_does(client):
    text = "Canicule : nos ventilateurs sont à -20 %, stock limité"
    expected = tonecheck.assess(text).to_dict()
    expected.pop("error")
    assert client.post("/v1/assess", json={"text": text}).json() == expected


def test_batch_gives_one_result_per_text_in_order(client):
    texts = ["Merci aux soignants ❤️", "Nouveau drop ce soir 20h 🔥 lien en bio", "Lavez-vous les mains"]
    r = client.post("/v1/assess-batch", json={"texts": texts})
    assert r.status_code == 200
    results = r.json()["results"]
    assert [x["label"] for x in results] == ["supportive", "promotional", "preventive"]
    for x in results:
        _check_result(x)


def test_health_and_model(client):
    assert client.get("/v1/health").json() == {"status": "ok", "tonecheck": tonecheck.__version__}
    info = client.get("/v1/model").json()
    meta = tonecheck.load_model().metadata
    assert info["labels"] == ["supportive", "promotional", "tone-deaf", "preventive"]
    assert info["versions"] == meta["versions"]
    assert info["review_threshold"] == pytest.approx(meta["review_threshold"])
    assert info["scope_threshold"] == pytest.approx(meta["scope_threshold"])
    assert info["max_text_length"] == tonecheck.MAX_TEXT_LENGTH and info["max_batch_items"] == MAX_BATCH_ITEMS


def test_openapi_describes_the_four_routes(client):
    spec = client.get("/v1/openapi.json").json()
    assert set(spec["paths"]) == {"/v1/assess", "/v1/assess-batch", "/v1/health", "/v1/model"}
    request = spec["components"]["schemas"]["AssessRequest"]
    assert request["properties"]["text"]["maxLength"] == tonecheck.MAX_TEXT_LENGTH
    assert spec["components"]["schemas"]["AssessBatchRequest"]["properties"]["texts"]["maxItems"] == MAX_BATCH_ITEMS
    assert "413" in spec["paths"]["/v1/assess"]["post"]["responses"]
    assert client.get("/docs").status_code == 404  # its scripts would come from a CDN


@pytest.mark.parametrize(
    "body, headers, status, message",
    [
        (b'{"text": ""}', {}, 422, "text is empty"),
        (b'{"text": "  \\n\\t "}', {}, 422, "text is empty or only white space"),
        (b'{"text": 42}', {}, 422, "text must be a string, not a JSON number"),
        (b'{"text": null}', {}, 422, "text must be a string, not a JSON null"),
        (b'{"text": ["a"]}', {}, 422, "text must be a string, not a JSON array"),
        (b'{"txt": "Merci"}', {}, 422, "the body has no 'text' field"),
        (b'["Merci"]', {}, 422, "the body must be a JSON object"),
        (b"", {}, 422, "the body is empty"),
        (b"text=Merci", {}, 400, "not valid JSON"),
        (b'{"text": "Merci"', {}, 400, "not valid JSON"),
        (b'{"text": "Merci"}', {"content-type": "text/plain"}, 415, "Content-Type: application/json"),
        (json.dumps({"text": "a" * (tonecheck.MAX_TEXT_LENGTH + 1)}).encode(), {}, 422, "50,001 characters; the maximum is 50,000"),
    ],
)
def test_bad_requests_get_a_4xx_naming_the_problem(client, body, headers, status, message):
    r = client.post("/v1/assess", content=body, headers={"content-type": "application/json", **headers})
    assert r.status_code == status, r.text
    assert message in r.json()["detail"]


def test_longest_text_is_accepted(client):
    text = ("Merci aux soignants ! " * 3000)[: tonecheck.MAX_TEXT_LENGTH]
    assert client.post("/v1/assess", json={"text": text}).status_code == 200


def test_a_body_without_content_type_is_read_as_json(client):
    assert client.post("/v1/assess", content=json.dumps({"text": TONE_DEAF})).json()["label"] == "tone-deaf"


@pytest.mark.parametrize(
    "texts, message",
    [
        ([], "texts is empty"),
        (["Merci"] * (MAX_BATCH_ITEMS + 1), "texts has 1,001 items; the maximum is 1,000"),
        (["Merci", 3], "texts[1] must be a string, not a JSON number"),
        (["Merci", " "], "texts[1] is empty"),
        ("Merci", "texts must be a list of strings, not a JSON string"),
    ],
)
def test_bad_batches_are_refused_naming_the_item(client, texts, message):
    r = client.post("/v1/assess-batch", json={"texts": texts})
    assert r.status_code == 422
    assert message in r.json()["detail"]


def test_largest_batch_is_accepted(client):
    r = client.post("/v1/assess-batch", json={"texts": ["Merci aux soignants"] * MAX_BATCH_ITEMS})
    assert r.status_code == 200 and len(r.json()["results"]) == MAX_BATCH_ITEMS


def test_body_over_the_limit_is_refused_with_413(client):
    big = b'{"text": "' + b"a" * MAX_BODY_BYTES + b'"}'
    r = client.post("/v1/assess", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and "maximum for POST /v1/assess is 1,048,576 bytes" in r.json()["detail"]


def test_streamed_body_over_the_limit_is_cut_off_with_413(client):
    def chunks():  # no Content-Length: the limit is counted as the bytes arrive
        yield b'{"text": "'
        for _ in range(400):
            yield b"a" * 4096
        yield b'"}'

    r = client.post("/v1/assess", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and "maximum" in r.json()["detail"]


def test_lone_surrogates_are_answered_in_valid_json(client):
    r = client.post("/v1/assess", content=b'{"text": "\\ud83d Merci aux soignants"}', headers={"content-type": "application/json"})
    assert r.status_code == 200
    r.content.decode("utf-8")  # strict
    assert r.json()["label"] == "supportive"


def test_50_parallel_requests_get_the_single_request_answers(client):
    with open(ROOT / "data" / "authored.csv", encoding="utf-8", newline="") as f:
        texts = [r["text"] for r in csv.DictReader(f)][:45]
    texts += [" ".join([t] * 40) for t in texts[:5]]  # long ones: assessed in the thread pool, not inline
    assert max(len(t) for t in texts) > 2_000
    alone = [client.post("/v1/assess", json={"text": t}).json() for t in texts]
    with ThreadPoolExecutor(max_workers=50) as pool:
        together = list(pool.map(lambda t: client.post("/v1/assess", json={"text": t}).json(), texts))
    assert together == alone
    assert len({a["label"] for a in alone}) == 4  # a varied sample, not 50 copies of one answer


def test_the_live_page_is_french_and_locked_down(client):
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert '<html lang="fr">' in r.text and "Guide des étiquettes" in r.text
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "connect-src 'self'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    for asset in ["common.js", "live.js", "common.css", "live.css"]:
        assert client.get(f"/assets/{asset}").status_code == 200
    assert client.get("/assets/../server.py").status_code == 404


def test_loopback_server_refuses_foreign_host_names():
    with TestClient(create_app(allowed_hosts={"127.0.0.1", "localhost"}), base_url="http://evil.example") as c:
        r = c.get("/v1/health")
        assert r.status_code == 400 and "unknown Host header" in r.json()["detail"]
    with TestClient(create_app(allowed_hosts={"127.0.0.1", "localhost"}), base_url="http://127.0.0.1:8765") as c:
        assert c.get("/v1/health").status_code == 200


def test_import_tonecheck_does_not_import_the_web_stack():
    code = ("import sys, tonecheck, tonecheck.cli, tonecheck.pages.commands, tonecheck.pages.review; tonecheck.cli._parser(); "
            "print(sorted(m for m in ('fastapi', 'starlette', 'uvicorn', 'pydantic') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_serve_command_prints_its_url_and_answers(tmp_path):
    script = Path(sys.executable).with_name("tonecheck")
    proc = subprocess.Popen([str(script), "serve", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        line = proc.stdout.readline()
        assert "http://127.0.0.1:" in line, line + proc.stderr.read() if proc.poll() is not None else line
        url = line.split()[line.split().index("sur") + 1]
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url + "v1/health", timeout=5) as r:
                    assert json.load(r)["status"] == "ok"
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        req = urllib.request.Request(url + "v1/assess", data=json.dumps({"text": TONE_DEAF}).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            assert json.load(r)["label"] == "tone-deaf"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_serve_on_a_busy_port_is_a_usage_error(capsys):
    import socket

    from tonecheck import cli

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        assert cli.main(["serve", "--port", str(s.getsockname()[1])]) == 2
    assert "cannot listen on 127.0.0.1" in capsys.readouterr().err


def test_page_url_names_a_reachable_address():
    from tonecheck.pages.server import bind_socket, page_url

    sock = bind_socket("127.0.0.1", 0)
    try:
        port = sock.getsockname()[1]
        assert page_url(sock) == f"http://127.0.0.1:{port}/"
    finally:
        sock.close()
    wildcard = bind_socket("0.0.0.0", 0)
    try:
        assert page_url(wildcard) == f"http://127.0.0.1:{wildcard.getsockname()[1]}/"  # 0.0.0.0 is not an address to open
    finally:
        wildcard.close()


@pytest.mark.parametrize("host, names", [
    ("127.0.0.1", {"127.0.0.1", "localhost", "[::1]"}),
    ("::1", {"127.0.0.1", "localhost", "[::1]"}),
    ("localhost", {"127.0.0.1", "localhost", "[::1]"}),
    ("0.0.0.0", None),  # any Host header: the server was opened to the network on purpose
    ("example.org", None),
])
def test_a_loopback_server_answers_only_to_loopback_host_names(host, names):
    from tonecheck.pages.server import _loopback_names

    assert _loopback_names(host) == names


def test_serve_refuses_a_port_out_of_range(capsys):
    from tonecheck import cli

    assert cli.main(["serve", "--port", "70000"]) == cli.EXIT_USAGE
    assert "--port must be between 0 and 65535, not 70000" in capsys.readouterr().err
