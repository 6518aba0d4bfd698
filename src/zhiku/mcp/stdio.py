"""MCP over stdio for one API key: what ``zhiku mcp serve`` runs for a local MCP client."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zhiku.core.settings import Settings

if TYPE_CHECKING:
    from mcp.server.context import ServerRequestContext

    from zhiku.mcp.tools import WorkspaceTools


def serve(settings: Settings, key: str) -> None:
    """Serve the tools of ``key``'s workspace and scope on stdin/stdout until the client
    leaves. The key is checked at start (a bad one fails at once) and again on every request,
    so revoking it cuts the client off."""
    import anyio

    from zhiku import __version__
    from zhiku.accounts.assistant_scope import confine
    from zhiku.accounts.secrets import HashCost
    from zhiku.accounts.store import AccountStore
    from zhiku.mcp.server import build_server, serve_stdio
    from zhiku.mcp.tools import WorkspaceTools
    from zhiku.runtime import Runtime

    with Runtime(settings) as runtime:
        auth = AccountStore(runtime.db, HashCost.of(runtime.settings))
        zk = runtime.workspace(auth.authenticate(key).workspace_id)

        def resolve(ctx: ServerRequestContext[Any]) -> WorkspaceTools:
            principal = auth.authenticate(key)
            if principal.assistants is not None:
                principal = confine(principal, zk.list_assistants())
            return WorkspaceTools(zk, principal)

        anyio.run(serve_stdio, build_server(resolve, __version__))
