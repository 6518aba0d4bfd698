"""Open a reader slot for each HTTP request: nobody (public only) until ``deps.get_principal``
names the caller's groups (see ``zhiku.permissions.context``)."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from zhiku.permissions.context import reading_as


class ReaderScope:
    """An ASGI middleware: every HTTP request reads as its own caller, never as the last
    one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with reading_as(None):
            await self.app(scope, receive, send)
