"""Authenticate before reading a request body: an ASGI middleware.

A request to ``/v1/...`` that carries a body and needs a caller is answered 401 at once, and
its connection closed, unless it presents a valid credential (with its CSRF proof when that is
the session cookie: 403 otherwise); nobody unauthenticated gets the server to receive, parse
or spool an upload. The principal it found is handed to
``deps.get_principal`` so the credential is looked up once.
"""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

from zhiku.accounts.principal import Principal
from zhiku.api.auth import cookies
from zhiku.api.errors import send_error
from zhiku.core.errors import Forbidden, Unauthorized

PUBLIC_PATHS = frozenset({"/v1/auth/login", "/v1/auth/signup", "/v1/auth/ldap/login"})
_SCOPE_KEY = "zhiku.principal"


def early_principal(scope: Scope, token: str) -> Principal | None:
    """The principal this middleware found for ``token`` on this request, if any."""
    found: Any = scope.get("state", {}).get(_SCOPE_KEY)
    if found is not None and found[0] == token:
        principal: Principal = found[1]
        return principal
    return None


def _has_body(headers: Headers) -> bool:
    length = headers.get("content-length")
    if length is not None:
        return length.strip() not in ("", "0")
    return "transfer-encoding" in headers


class AuthBeforeBody:
    """Refuse unauthenticated requests with a body before their body is read."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._guarded(scope):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        token, from_cookie = cookies.credential(headers, cookie_parser(headers.get("cookie", "")))
        message = "send 'Authorization: Bearer <API key or session token>'"
        principal = None
        if token:
            auth = scope["app"].state.api.auth
            try:
                if from_cookie:
                    cookies.check_csrf(scope["method"], headers, token)
                principal = await to_thread.run_sync(auth.authenticate, token)
            except Forbidden as exc:
                await send_error(send, 403, "forbidden", exc.message, close=True)
                return
            except Unauthorized as exc:
                message = exc.message
        if principal is None:
            await send_error(send, 401, "unauthorized", message, close=True)
            return
        scope.setdefault("state", {})[_SCOPE_KEY] = (token, principal)
        await self.app(scope, receive, send)

    @staticmethod
    def _guarded(scope: Scope) -> bool:
        path: str = scope.get("path", "")
        if not path.startswith("/v1/") or path in PUBLIC_PATHS:
            return False
        return _has_body(Headers(scope=scope))
