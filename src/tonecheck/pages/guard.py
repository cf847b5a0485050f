"""The ASGI middleware in front of ``tonecheck serve``'s app (:class:`Guard`): body size
limits, the JSON content type, the Host header, and the headers every response gets."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import HTTPException

from tonecheck.pages.api import MAX_BATCH_BODY_BYTES, MAX_BODY_BYTES

__all__ = ["Guard"]

_BODY_LIMITS = {"/v1/assess": MAX_BODY_BYTES, "/v1/assess-batch": MAX_BATCH_BODY_BYTES}


class Guard:
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
