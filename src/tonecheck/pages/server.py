"""The web app of ``tonecheck serve``: a page that assesses a draft as it is typed, and a JSON API.

Routes: ``GET /`` (the page), ``POST /v1/assess``, ``POST /v1/assess-batch``,
``GET /v1/health``, ``GET /v1/model`` and ``GET /v1/openapi.json``. Needs the ``serve``
extra (FastAPI and uvicorn); ``import tonecheck`` never imports them.

The model is loaded once, when the app is created; requests run in FastAPI's thread pool
(``assess`` is thread-safe). Bad requests get a 4xx whose ``detail`` names the problem.
"""

from __future__ import annotations

import html
import ipaddress
import json
import re
import socket
import sys
from importlib import resources
from typing import Any, Literal

from fastapi import FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from tonecheck import (
    MAX_TEXT_LENGTH,
    Assessment,
    Model,
    __version__,
    assess,
    assess_many,
    load_model,
)
from tonecheck.labels import LABELS
from tonecheck.pages.guide import LABEL_GUIDE, guide_html, page_texts

__all__ = [
    "create_app", "serve", "MAX_BATCH_ITEMS", "MAX_BODY_BYTES", "MAX_BATCH_BODY_BYTES", "bind_socket", "page_url",
]

#: Most texts in one ``POST /v1/assess-batch``.
MAX_BATCH_ITEMS = 1_000
#: Largest body of ``POST /v1/assess``: a MAX_TEXT_LENGTH text fits even with every
#: character escaped as a JSON surrogate pair (12 bytes each: 600,000 bytes).
MAX_BODY_BYTES = 1024 * 1024
#: Largest body of ``POST /v1/assess-batch``: about 4 million characters, a few seconds of work
#: (more than a thousand typical captions: send bigger jobs through ``tonecheck score``).
MAX_BATCH_BODY_BYTES = 4 * 1024 * 1024
#: Texts up to this many characters are assessed on the event loop (a few ms at most).
_INLINE_CHARS = 2_000
_BODY_LIMITS = {"/v1/assess": MAX_BODY_BYTES, "/v1/assess-batch": MAX_BATCH_BODY_BYTES}
_ASSETS = {
    "common.css": "text/css", "live.css": "text/css", "common.js": "text/javascript", "live.js": "text/javascript",
}
_PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_MARKER = re.compile("@@[A-Z_]+@@")
_JSON_TYPES = {
    dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number", type(None): "null",
}

LabelName = Literal["supportive", "promotional", "tone-deaf", "preventive"]


class AssessRequest(BaseModel):
    text: StrictStr = Field(
        description=f"The draft, 1 to {MAX_TEXT_LENGTH:,} characters, not only white space.",
        json_schema_extra={"minLength": 1, "maxLength": MAX_TEXT_LENGTH},
        examples=["Restez chez vous et profitez de -30 % avec le code RESTEZCHEZVOUS"],
    )


class AssessBatchRequest(BaseModel):
    texts: list[StrictStr] = Field(
        description=f"1 to {MAX_BATCH_ITEMS:,} drafts, each as in /v1/assess.",
        json_schema_extra={"minItems": 1, "maxItems": MAX_BATCH_ITEMS},
        examples=[["Merci aux soignants ❤️", "Nouveau drop ce soir 🔥 lien en bio"]],
    )


class EvidenceOut(BaseModel):
    text: str = Field(description="The word as it is in the text.")
    start: int = Field(description="Offset of its first character in the text (code points, as Python counts).")
    end: int = Field(description="Offset just past its last character.")
    weight: float = Field(description="How much it pushed toward the label (positive).")


class AssessResponse(BaseModel):
    label: LabelName
    scores: dict[LabelName, float] = Field(description="Calibrated probability of each label; they sum to 1.")
    needs_review: bool = Field(description="True when a person should look before publishing.")
    review_reasons: list[str] = Field(description="Why: unsure, close-call, out-of-scope, not-french, no-words.")
    in_scope: float = Field(description="Probability that the post is one of the four kinds at all.")
    evidence: list[EvidenceOut] = Field(description="Words that pushed toward the label, strongest first.")


class AssessBatchResponse(BaseModel):
    results: list[AssessResponse] = Field(description="One result per text, in order.")


class Health(BaseModel):
    status: Literal["ok"]
    tonecheck: str


class ModelInfo(BaseModel):
    model_config = ConfigDict(protected_namespaces=())
    tonecheck: str = Field(description="The version of tonecheck serving.")
    versions: dict[str, str] = Field(description="Library versions the model was built with.")
    labels: list[str]
    review_threshold: float | None = Field(description="Below this top probability a draft is 'unsure'.")
    scope_threshold: float | None = Field(description="Below this in-scope probability a draft is 'out-of-scope'.")
    trained_on_posts: int | None
    max_text_length: int
    max_batch_items: int
    max_body_bytes: int
    max_batch_body_bytes: int


class Problem(BaseModel):
    detail: str = Field(description="What is wrong with the request, in one sentence.")


class _JSON(JSONResponse):
    """JSON that survives lone surrogates (the API accepts any str): escaped if need be."""

    def render(self, content: Any) -> bytes:
        text = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:
            return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode("ascii")


def _result(a: Assessment) -> dict[str, Any]:
    d = a.to_dict()
    d.pop("error", None)
    return d


def _rounded(value: Any) -> float | None:
    return round(float(value), 6) if isinstance(value, (int, float)) else None


def _json_type(value: Any) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _where(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p != "body"]
    out = ""
    for p in parts:
        out += f"[{p}]" if p.isdigit() else (f".{p}" if out else p)
    return out


def _explain(error: dict[str, Any]) -> str:
    """One validation error of FastAPI/pydantic as a sentence naming the field and the problem."""
    kind, loc, given = error.get("type", ""), tuple(error.get("loc", ())), error.get("input")
    where = _where(loc)
    if kind == "json_invalid":
        reason = (error.get("ctx") or {}).get("error", "invalid JSON")
        return f"the body is not valid JSON: {reason} (at character {loc[-1] if len(loc) > 1 else 0})"
    if kind == "missing" and not where:
        return 'the body is empty: send a JSON object such as {"text": "…"}'
    if kind == "missing":
        return f"the body has no {where!r} field"
    if not where:
        return f'the body must be a JSON object such as {{"text": "…"}}, not a JSON {_json_type(given)}'
    if kind == "string_type":
        return f"{where} must be a string, not a JSON {_json_type(given)}"
    if kind == "list_type":
        return f"{where} must be a list of strings, not a JSON {_json_type(given)}"
    return f"{where}: {error.get('msg', 'invalid value')}"


class _Guard:
    """ASGI middleware: body size limits (413), JSON content type (415), Host check, headers.

    Runs before FastAPI reads the body: a too-large body is refused from its Content-Length,
    or, when it is streamed without one, as soon as more bytes than the limit have arrived.
    """

    def __init__(self, app: Any, allowed_hosts: frozenset[str] | None = None) -> None:
        self.app = app
        self.allowed_hosts = allowed_hosts

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if self.allowed_hosts is not None and _host_name(headers.get("host", "")) not in self.allowed_hosts:
            host = headers.get("host", "")
            await _problem(send, 400, f"unknown Host header {host!r}: this server answers on its own address only")
            return
        limit = _BODY_LIMITS.get(scope["path"])
        if limit is not None and scope["method"] == "POST":
            ctype = headers.get("content-type")
            if ctype is None:  # e.g. a hand-written client: read the body as JSON all the same
                scope = dict(scope, headers=[*scope["headers"], (b"content-type", b"application/json")])
            elif not re.match(r"\s*application/([\w.+-]*\+)?json\s*(;|$)", ctype, re.I):
                await _problem(
                    send, 415, f"the body must be JSON sent as Content-Type: application/json, not {ctype!r}"
                )
                return
            declared = headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > limit:
                await _problem(send, 413, _too_large(int(declared), limit, scope["path"]))
                return
            receive = _limited(receive, limit, scope["path"])

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                extra = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]
                message = dict(message, headers=[*message.get("headers", []), *extra])
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _host_name(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _too_large(size: int, limit: int, path: str) -> str:
    return f"the request body has {size:,} bytes or more; the maximum for POST {path} is {limit:,} bytes"


def _limited(receive: Any, limit: int, path: str) -> Any:
    received = 0

    async def limited_receive() -> dict[str, Any]:
        nonlocal received
        message: dict[str, Any] = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise HTTPException(413, _too_large(received, limit, path))
        return message

    return limited_receive


async def _problem(send: Any, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}, ensure_ascii=False).encode("utf-8")
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                    (b"x-content-type-options", b"nosniff")],
    })
    await send({"type": "http.response.body", "body": body})


def _asset(name: str) -> str:
    return resources.files("tonecheck.pages").joinpath("static").joinpath(name).read_text(encoding="utf-8")


def _page() -> str:
    examples = [x for item in LABEL_GUIDE for x in item["examples"][:1]]
    buttons = "".join(
        f'<button type="button" class="example" data-example="{html.escape(x)}">{html.escape(x)}</button>'
        for x in examples
    )
    fills = {
        "@@GUIDE@@": guide_html(),
        "@@TEXTS@@": json.dumps(
            {**page_texts(), "max_text_length": MAX_TEXT_LENGTH}, ensure_ascii=False
        ).replace("<", "\\u003c"),
        "@@EXAMPLES@@": buttons,
        "@@VERSION@@": html.escape(__version__),
        "@@MAX@@": f"{MAX_TEXT_LENGTH:,}".replace(",", "\u202f"),
    }
    return _MARKER.sub(lambda m: fills[m.group(0)], _asset("live.html"))


_PROBLEMS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "description": what}
    for code, what in [
        (400, "The body is not valid JSON."),
        (413, "The body is larger than the limit."),
        (415, "The body is not sent as application/json."),
        (422, "A field is missing, of the wrong type, empty, too long, or there are too many texts."),
    ]
}


def create_app(model: Model | None = None, *, allowed_hosts: set[str] | None = None) -> Any:
    """The ASGI app of ``tonecheck serve``, with ``model`` (default: the shipped one) loaded now.

    ``allowed_hosts``: Host header names answered (default: any); ``serve`` passes its own
    address when bound to loopback, so that a web page elsewhere cannot reach it by DNS rebinding.
    """
    loaded = model if model is not None else load_model()
    assess("Merci aux soignants", model=loaded)  # load the tokenizer and warm the caches now
    meta = loaded.metadata
    page = _page()
    assets = {name: _asset(name) for name in _ASSETS}

    app = FastAPI(
        title="tonecheck",
        version=__version__,
        summary="Is a French crisis-time draft supportive, promotional, tone-deaf or preventive?",
        description="Assesses French social-media drafts written during a crisis. Offsets count code points.",
        openapi_url="/v1/openapi.json",
        docs_url=None,  # the interactive docs load scripts from a CDN: this server stays offline
        redoc_url=None,
        default_response_class=_JSON,
    )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        status = 400 if errors and errors[0].get("type") == "json_invalid" else 422
        detail = "; ".join(dict.fromkeys(_explain(e) for e in errors[:5]))
        return _JSON({"detail": detail}, status_code=status)

    def checked(text: str, name: str) -> str:
        if not text.strip():
            raise HTTPException(422, f"{name} is empty or only white space; there is nothing to assess")
        if len(text) > MAX_TEXT_LENGTH:
            raise HTTPException(422, f"{name} has {len(text):,} characters; the maximum is {MAX_TEXT_LENGTH:,}")
        return text

    @app.post("/v1/assess", response_model=AssessResponse, responses=_PROBLEMS, summary="Assess one draft")
    async def assess_one(body: AssessRequest) -> Response:
        text = checked(body.text, "text")
        # A caption takes ~1-2 ms: assessed on the event loop, it skips the thread hand-off.
        # A long text would hold the loop up, so it goes to the thread pool.
        if len(text) <= _INLINE_CHARS:
            result = assess(text, model=loaded)
        else:
            result = await run_in_threadpool(assess, text, model=loaded)
        return _JSON(_result(result))  # already the AssessResponse shape: no second validation

    @app.post(
        "/v1/assess-batch", response_model=AssessBatchResponse, responses=_PROBLEMS, summary="Assess up to 1,000 drafts"
    )
    def assess_batch(body: AssessBatchRequest) -> Response:
        if not body.texts:
            raise HTTPException(422, "texts is empty: send 1 to 1,000 strings")
        if len(body.texts) > MAX_BATCH_ITEMS:
            raise HTTPException(
                422, f"texts has {len(body.texts):,} items; the maximum is {MAX_BATCH_ITEMS:,} per request "
                "(split the list, or score a file with `tonecheck score`)"
            )
        texts = [checked(t, f"texts[{i}]") for i, t in enumerate(body.texts)]
        return _JSON({"results": [_result(a) for a in assess_many(texts, model=loaded)]})

    @app.get("/v1/health", response_model=Health, summary="The server is up and its model loaded")
    def health() -> dict[str, Any]:
        return {"status": "ok", "tonecheck": __version__}

    @app.get("/v1/model", response_model=ModelInfo, summary="The model served: versions, labels, thresholds")
    def model_info() -> dict[str, Any]:
        trained: dict[str, Any] = meta["trained_on"] if isinstance(meta.get("trained_on"), dict) else {}
        return {
            "tonecheck": __version__,
            "versions": {str(k): str(v) for k, v in (meta.get("versions") or {}).items()},
            "labels": list(meta.get("labels") or LABELS),
            "review_threshold": _rounded(meta.get("review_threshold")),
            "scope_threshold": _rounded(meta.get("scope_threshold")),
            "trained_on_posts": trained.get("posts"),
            "max_text_length": MAX_TEXT_LENGTH,
            "max_batch_items": MAX_BATCH_ITEMS,
            "max_body_bytes": MAX_BODY_BYTES,
            "max_batch_body_bytes": MAX_BATCH_BODY_BYTES,
        }

    @app.get("/", include_in_schema=False)
    def live_page() -> Response:
        return Response(page, media_type="text/html; charset=utf-8", headers={"Content-Security-Policy": _PAGE_CSP})

    @app.get("/assets/{name}", include_in_schema=False)
    def asset(name: str) -> Response:
        if name not in assets:
            raise HTTPException(404, f"no asset {name!r}")
        return Response(
            assets[name], media_type=f"{_ASSETS[name]}; charset=utf-8", headers={"Cache-Control": "no-cache"}
        )

    hosts = None if allowed_hosts is None else frozenset(h.lower() for h in allowed_hosts)
    app.add_middleware(_Guard, allowed_hosts=hosts)
    return app


def bind_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: a free one, chosen by the system)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP, not 0: asyncio only sets TCP_NODELAY on sockets that say they are TCP,
    # and without it every keep-alive response waits ~40 ms for a delayed ACK (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)  # connections wait in the backlog until uvicorn accepts: the URL works once printed
    except OSError:
        sock.close()
        raise
    return sock


def page_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    if host in ("0.0.0.0", "::"):
        host = "127.0.0.1" if host == "0.0.0.0" else "::1"
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def _loopback_names(host: str) -> set[str] | None:
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        return None
    return {"127.0.0.1", "localhost", "[::1]", host.lower() if ":" not in host else f"[{host.lower()}]"}


def serve(host: str = "127.0.0.1", port: int = 0, *, model: Model | None = None, log_level: str = "warning") -> None:
    """Run the app with uvicorn on ``host:port`` until interrupted; prints the page's URL first."""
    import uvicorn

    sock = bind_socket(host, port)
    app = create_app(model, allowed_hosts=_loopback_names(host))
    url = page_url(sock)
    print(f"tonecheck: page de vérification sur {url}  (API : {url}v1/openapi.json ; Ctrl+C pour arrêter)", flush=True)
    config = uvicorn.Config(app, log_level=log_level, access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    print("tonecheck: serveur arrêté", file=sys.stderr, flush=True)
