"""The web app of ``tonecheck serve``: a page that assesses a draft as it is typed, and a JSON API.

Routes: ``GET /`` (the page), ``POST /v1/assess``, ``POST /v1/assess-batch``,
``GET /v1/health``, ``GET /v1/model`` and ``GET /v1/openapi.json``. Needs the ``serve``
extra (FastAPI and uvicorn); ``import tonecheck`` never imports them.

The model is loaded once, when the app is created; requests run in FastAPI's thread pool
(``assess`` is thread-safe). Bad requests get a 4xx whose ``detail`` names the problem.
The API's limits and models are in :mod:`tonecheck.pages.api`, the middleware in front of
the routes in :mod:`tonecheck.pages.guard`; here: the app and its routes, and serving it.
"""

from __future__ import annotations

import html
import ipaddress
import json
import re
import socket
import sys
from importlib import resources
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

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
from tonecheck.pages.api import (
    MAX_BATCH_BODY_BYTES,
    MAX_BATCH_ITEMS,
    MAX_BODY_BYTES,
    PROBLEMS,
    AssessBatchRequest,
    AssessBatchResponse,
    AssessRequest,
    AssessResponse,
    Health,
    ModelInfo,
    SafeJSONResponse,
    explain,
)
from tonecheck.pages.guard import Guard
from tonecheck.pages.guide import LABEL_GUIDE, guide_html, page_texts

__all__ = ["create_app", "serve", "bind_socket", "page_url"]

#: Texts up to this many characters are assessed on the event loop (a few ms at most).
_INLINE_CHARS = 2_000
_ASSETS = {
    "common.css": "text/css", "live.css": "text/css", "common.js": "text/javascript", "live.js": "text/javascript",
}
_PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_MARKER = re.compile("@@[A-Z_]+@@")


def _result(a: Assessment) -> dict[str, Any]:
    d = a.to_dict()
    d.pop("error", None)
    return d


def _rounded(value: Any) -> float | None:
    return round(float(value), 6) if isinstance(value, (int, float)) else None


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
        default_response_class=SafeJSONResponse,
    )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        status = 400 if errors and errors[0].get("type") == "json_invalid" else 422
        detail = "; ".join(dict.fromkeys(explain(e) for e in errors[:5]))
        return SafeJSONResponse({"detail": detail}, status_code=status)

    def checked(text: str, name: str) -> str:
        if not text.strip():
            raise HTTPException(422, f"{name} is empty or only white space; there is nothing to assess")
        if len(text) > MAX_TEXT_LENGTH:
            raise HTTPException(422, f"{name} has {len(text):,} characters; the maximum is {MAX_TEXT_LENGTH:,}")
        return text

    @app.post("/v1/assess", response_model=AssessResponse, responses=PROBLEMS, summary="Assess one draft")
    async def assess_one(body: AssessRequest) -> Response:
        text = checked(body.text, "text")
        # A caption takes ~1-2 ms: assessed on the event loop, it skips the thread hand-off.
        # A long text would hold the loop up, so it goes to the thread pool.
        if len(text) <= _INLINE_CHARS:
            result = assess(text, model=loaded)
        else:
            result = await run_in_threadpool(assess, text, model=loaded)
        return SafeJSONResponse(_result(result))  # already the AssessResponse shape: no second validation

    @app.post(
        "/v1/assess-batch", response_model=AssessBatchResponse, responses=PROBLEMS, summary="Assess up to 1,000 drafts"
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
        return SafeJSONResponse({"results": [_result(a) for a in assess_many(texts, model=loaded)]})

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
    app.add_middleware(Guard, allowed_hosts=hosts)
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
