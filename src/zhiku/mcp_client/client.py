"""Talking to one MCP server with the ``mcp`` SDK: list its tools, call one.

Each operation opens its own session (a stdio server is started and stopped around it) and
runs on an event loop in a thread of its own. It is bounded three times: each request by the
SDK's read time-out (``connect_timeout_s`` for the handshake and listing, ``call_timeout_s`` for
a call), the whole by ``anyio.fail_after`` (which also stops a stdio server), and the thread by
a join with a grace period, so a server that fails, hangs or never answers is an ``McpError``,
never a hang.
"""

from __future__ import annotations

import os
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from zhiku.core.errors import ProviderError
from zhiku.core.extras import require_extra
from zhiku.mcp_client.config import McpServerConfig

if TYPE_CHECKING:
    from zhiku.ingest.fetch import UrlPolicy

T = TypeVar("T")
_GRACE_S = 10.0  # beyond the time-out, for the SDK to stop a stdio server


class McpError(ProviderError):
    """An MCP server failed, timed out, or its tool reported an error."""

    kind = "mcp_error"


@dataclass(slots=True)
class McpToolInfo:
    """A tool a server offers: its name, description and argument schema."""

    name: str
    description: str
    input_schema: dict[str, Any]


@asynccontextmanager
async def _session(config: McpServerConfig, secrets: Mapping[str, str],
                   guard: UrlPolicy | None) -> AsyncIterator[Any]:
    """An initialised SDK ``Client`` for the server (its HTTP client closed on exit). With
    ``guard`` every HTTP connection goes to an address it allows, the one it checked."""
    from mcp import Client, StdioServerParameters

    wait = config.connect_timeout_s
    if config.transport == "stdio":
        env = None
        if secrets:
            # The SDK passes a safe default environment; the secrets are added to it.
            from mcp.client.stdio import get_default_environment

            env = {**get_default_environment(), **secrets}
        params = StdioServerParameters(command=str(config.command), args=list(config.args),
                                       env=env, cwd=config.cwd or os.getcwd())
        async with Client(params, cache=None, read_timeout_seconds=wait) as client:
            yield client
        return
    from mcp.client.streamable_http import streamable_http_client

    async with _http_client(secrets, guard) as http:
        transport = streamable_http_client(str(config.url), http_client=http)
        async with Client(transport, cache=None, read_timeout_seconds=wait) as client:
            yield client


def _http_client(secrets: Mapping[str, str], guard: UrlPolicy | None) -> Any:
    """The SDK's HTTP client (its time-outs), pinned to checked addresses with ``guard``."""
    from mcp.shared._httpx_utils import (
        MCP_DEFAULT_SSE_READ_TIMEOUT,
        MCP_DEFAULT_TIMEOUT,
        create_mcp_http_client,
    )

    if guard is None:
        return create_mcp_http_client(headers=dict(secrets) or None)
    import httpx2

    from zhiku.ingest.pinned import pinned_async_transport

    return httpx2.AsyncClient(
        headers=dict(secrets) or None, transport=pinned_async_transport(guard),
        timeout=httpx2.Timeout(MCP_DEFAULT_TIMEOUT, read=MCP_DEFAULT_SSE_READ_TIMEOUT))


def _run(name: str, what: str, limit: float, timeout: float,
         work: Callable[[], Awaitable[T]]) -> T:
    """``work()`` on its own event loop in a daemon thread, within ``timeout`` in all; a
    request the SDK timed out is reported with its own ``limit``."""
    import anyio

    box: list[Any] = []

    async def bounded() -> T:
        with anyio.fail_after(timeout):
            return await work()

    def thread() -> None:
        try:
            box.append(("ok", anyio.run(bounded)))
        except BaseException as exc:  # handed to the caller below
            box.append(("error", exc))

    runner = threading.Thread(target=thread, name=f"zhiku-mcp-{name}"[:60], daemon=True)
    runner.start()
    runner.join(timeout + _GRACE_S)
    if not box:
        raise McpError(f"MCP server '{name}' did not {what} within {timeout:g} s")
    status, value = box[0]
    if status == "ok":
        return value
    raise _error(name, what, limit, timeout, value) from None


def _error(name: str, what: str, limit: float, timeout: float,
           exc: BaseException) -> McpError:
    inner = exc
    while isinstance(inner, BaseExceptionGroup) and inner.exceptions:
        inner = inner.exceptions[0]
    if isinstance(inner, McpError):
        return inner
    if isinstance(inner, TimeoutError):
        return McpError(f"MCP server '{name}' did not {what} within {timeout:g} s")
    if _request_timeout(inner):
        return McpError(f"MCP server '{name}' did not {what} within {limit:g} s")
    detail = str(inner).splitlines()[0][:200] if str(inner) else ""
    return McpError(f"MCP server '{name}' failed to {what}: {type(inner).__name__}"
                    + (f": {detail}" if detail else ""))


def _request_timeout(exc: BaseException) -> bool:
    """Whether ``exc`` is the SDK's per-request time-out."""
    from mcp import MCPError
    from mcp.types import REQUEST_TIMEOUT

    return isinstance(exc, MCPError) and exc.error.code == REQUEST_TIMEOUT


def list_tools(name: str, config: McpServerConfig, secrets: Mapping[str, str],
               guard: UrlPolicy | None = None) -> list[McpToolInfo]:
    """The server's tools (every page); ``guard``: see ``_session``."""
    require_extra("mcp", "MCP servers")

    async def work() -> list[McpToolInfo]:
        out: list[McpToolInfo] = []
        async with _session(config, secrets, guard) as client:
            cursor: str | None = None
            for _page in range(100):
                listing = await client.list_tools(cursor=cursor)
                out += [McpToolInfo(t.name, t.description or "", dict(t.input_schema))
                        for t in listing.tools]
                cursor = listing.next_cursor
                if not cursor:
                    break
        return out

    return _run(name, "list its tools", config.connect_timeout_s, config.connect_timeout_s,
                work)


def call_tool(name: str, config: McpServerConfig, secrets: Mapping[str, str], tool: str,
              args: Mapping[str, Any], guard: UrlPolicy | None = None) -> Any:
    """The tool's result: its structured content when it has one, else its text;
    ``guard``: see ``_session``."""
    require_extra("mcp", "MCP servers")

    async def work() -> Any:
        async with _session(config, secrets, guard) as client:
            result = await client.call_tool(tool, dict(args),
                                            read_timeout_seconds=config.call_timeout_s)
        text = "\n".join(getattr(c, "text", f"[{c.type} content]") for c in result.content)
        if result.is_error:
            raise McpError(f"the MCP tool '{tool}' reported an error: {text[:500]}")
        if result.structured_content is not None:
            return result.structured_content
        return text

    return _run(name, f"answer the call of '{tool}'", config.call_timeout_s,
                config.connect_timeout_s + config.call_timeout_s, work)
