"""Open an audit context for each HTTP request: the client's address now, the caller once
``deps.get_principal`` has checked the credential (see ``zhiku.audit.context``).

The address is the peer of the connection as uvicorn reports it: behind a reverse proxy, the
client's own once ``ZHIKU_API_FORWARDED_ALLOW_IPS`` names the proxies (docs/operations.md).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from zhiku.audit.context import acting


class AuditScope:
    """An ASGI middleware: every HTTP request runs in its own ``AuditContext``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        with acting(None, str(client[0]) if client else None):
            await self.app(scope, receive, send)
