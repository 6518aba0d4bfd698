"""The one mapping from errors to HTTP responses: ``{"error": {"type", "message", ...}}``.

Every ``ZhikuError`` carries its own ``status`` and ``kind``; validation errors become 422;
anything unexpected becomes a bare 500 whose body says nothing about the code (the traceback
goes to the server log only, never to the client).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Send

from zhiku.api.allow import allowed_methods
from zhiku.core.errors import ZhikuError

log = logging.getLogger(__name__)

_HTTP_KINDS = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
}
_SAFE_DETAIL_TYPES = (str, int, float, bool, type(None))


def error_body(kind: str, message: str, **extra: Any) -> dict[str, Any]:
    """The error format every response uses."""
    return {"error": {"type": kind, "message": message, **extra}}


async def send_error(send: Send, status: int, kind: str, message: str, *,
                     close: bool = False) -> None:
    """Answer a raw ASGI request with the error format, for middleware and mounted apps that
    run outside FastAPI's exception handlers (401 also names the Bearer scheme)."""
    body = json.dumps(error_body(kind, message)).encode()
    headers = [(b"content-type", b"application/json"),
               (b"content-length", str(len(body)).encode())]
    if close:
        headers.append((b"connection", b"close"))
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _flat(value: object) -> bool:
    """A scalar, or a mapping of scalars (e.g. one problem: node, field, message)."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and isinstance(v, _SAFE_DETAIL_TYPES)
                   for k, v in value.items())
    return isinstance(value, _SAFE_DETAIL_TYPES)


def _safe(value: object) -> bool:
    if isinstance(value, list):
        return all(_flat(v) for v in value)
    return isinstance(value, _SAFE_DETAIL_TYPES)


def _details(exc: ZhikuError) -> dict[str, Any]:
    return {k: v for k, v in exc.details.items() if _safe(v)}


async def _zhiku_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ZhikuError)
    if exc.status >= 500:
        log.error("%s on %s %s: %s", exc.kind, request.method, request.url.path, exc.message)
    headers = {}
    if exc.status in (429, 503) and "retry_after" in exc.details:
        headers["Retry-After"] = str(exc.details["retry_after"])
    if exc.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    body = error_body(exc.kind, exc.message, **_details(exc))
    return JSONResponse(body, status_code=exc.status, headers=headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [
        {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))}
        for e in exc.errors()
    ]
    body = error_body("invalid_request", "the request is not valid", errors=problems)
    return JSONResponse(body, status_code=422)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    kind = _HTTP_KINDS.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else kind.replace("_", " ")
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request.app.routes, request.url.path))
    return JSONResponse(error_body(kind, message), status_code=exc.status_code, headers=headers)


async def _out_of_range(request: Request, exc: Exception) -> JSONResponse:
    body = error_body("invalid_request", "a number in the request is out of range")
    return JSONResponse(body, status_code=400)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return JSONResponse(error_body("internal_error", "internal server error"), status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(ZhikuError, _zhiku_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(OverflowError, _out_of_range)  # ints beyond SQLite's 64 bits
    app.add_exception_handler(Exception, _unexpected)


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": None, "description": kind.replace("_", " ")}
    for code, kind in ((401, "unauthorized"), (403, "forbidden"), (404, "not_found"))
}
