"""MCP over streamable HTTP at ``/mcp`` of the API server, authenticated with an API key.

Each request carries ``Authorization: Bearer <API key>``; it is checked (and counted against the
key's rate limit) before the MCP layer reads anything, and again by every tool call, so a
request only ever acts as the key it carries. Stateless mode: no server-side MCP session ties
one request to a previous caller's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import anyio
from starlette.types import Receive, Scope, Send

from zhiku import __version__
from zhiku.api.errors import send_error
from zhiku.core.errors import MissingDependency, ZhikuError
from zhiku.core.extras import has_extra, install_hint

if TYPE_CHECKING:
    from anyio.abc import TaskGroup, TaskStatus
    from fastapi import FastAPI
    from mcp.server.context import ServerRequestContext
    from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

    from zhiku.accounts.principal import Principal
    from zhiku.api.state import ApiState
    from zhiku.mcp.tools import WorkspaceTools


def _bearer(headers: Any) -> str:
    value = headers.get("authorization") or ""
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _principal(state: ApiState, token: str) -> Principal:
    """The key's principal, confined to its assistants' knowledge bases (as over HTTP)."""
    from zhiku.accounts.assistant_scope import confine
    from zhiku.core.errors import Unauthorized

    if not token:
        raise Unauthorized("send 'Authorization: Bearer <API key>'")
    principal = state.auth.authenticate(token)
    if principal.assistants is not None:
        assistants = state.runtime.workspace(principal.workspace_id).list_assistants()
        principal = confine(principal, assistants)
    return principal


class McpEndpoint:
    """The ASGI endpoint of ``/mcp``: authenticate, then hand over to the SDK's transport.

    The SDK (about 20 MB of modules) is loaded and its transport started on the first request
    to ``/mcp``, not when the server starts: a server nobody reaches over MCP never holds it.
    """

    def __init__(self, state: Callable[[], ApiState]) -> None:
        self._state = state
        self._manager: StreamableHTTPSessionManager | None = None
        self._starting = anyio.Lock()
        self._group: TaskGroup | None = None

    def _build(self) -> StreamableHTTPSessionManager:
        from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
        from mcp.server.transport_security import TransportSecuritySettings

        from zhiku.mcp.server import build_server

        return StreamableHTTPSessionManager(
            app=build_server(self._tools, __version__),
            stateless=True,
            json_response=True,
            # callers prove themselves with a bearer key, which a browser page on another
            # origin cannot send, so Host/Origin pinning would only break real deployments
            security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )

    def _tools(self, ctx: ServerRequestContext[Any]) -> WorkspaceTools:
        from zhiku.mcp.tools import WorkspaceTools

        state = self._state()
        request = ctx.request
        principal = _principal(state, _bearer(getattr(request, "headers", {}) or {}))
        return WorkspaceTools(state.runtime.workspace(principal.workspace_id), principal)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Hold the task group the transport runs in once started, for the server's lifetime."""
        async with anyio.create_task_group() as group:
            self._group = group
            try:
                yield
            finally:
                self._group = None
                group.cancel_scope.cancel()

    async def _serve(
        self, manager: StreamableHTTPSessionManager, *, task_status: TaskStatus[None]
    ) -> None:
        async with manager.run():
            task_status.started()
            await anyio.sleep_forever()

    async def _started(self) -> StreamableHTTPSessionManager:
        """The transport, built and started by the first request that needs it."""
        if self._manager is not None:
            return self._manager
        async with self._starting:
            if self._manager is None:
                group = self._group
                if group is None:  # only inside the app's lifespan
                    raise RuntimeError("the MCP transport runs only while the server does")
                manager = await anyio.to_thread.run_sync(self._build)
                await group.start(self._serve, manager)
                self._manager = manager
        return self._manager

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        from starlette.datastructures import Headers

        state = self._state()
        try:
            principal = await anyio.to_thread.run_sync(
                _principal, state, _bearer(Headers(scope=scope))
            )
            state.limiter.hit(principal.rate_key)
            manager = await self._started()
        except ZhikuError as exc:
            await send_error(send, exc.status, exc.kind, exc.message)
            return
        await manager.handle_request(scope, receive, send)


def mount_mcp(app: FastAPI) -> McpEndpoint | None:
    """Serve MCP at ``/mcp`` of ``app`` (whose lifespan sets ``app.state.api``); without the
    ``mcp`` extra, ``/mcp`` answers 501 naming the install command."""
    from starlette.routing import Route

    # stateless JSON responses: no session to resume (GET) or end (DELETE), so POST only
    methods = ["POST"]
    if not has_extra("mcp"):

        async def missing(scope: Scope, receive: Receive, send: Send) -> None:
            missing_mcp = MissingDependency(f"MCP needs: {install_hint('mcp')}")
            await send_error(send, missing_mcp.status, missing_mcp.kind, missing_mcp.message)

        app.router.routes.append(Route("/mcp", endpoint=missing, methods=methods))
        return None
    endpoint = McpEndpoint(lambda: app.state.api)
    app.router.routes.append(Route("/mcp", endpoint=endpoint, methods=methods))
    return endpoint
