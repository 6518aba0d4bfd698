"""An MCP server's tools as registry ``Tool`` objects named ``server__tool``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from zhiku.mcp_client.client import McpToolInfo, call_tool, list_tools
from zhiku.mcp_client.config import McpServerConfig

if TYPE_CHECKING:
    from zhiku.ingest.fetch import UrlPolicy

_NAME_BAD = re.compile(r"[^A-Za-z0-9_-]+")


class McpTool:
    """One tool of one MCP server; each call opens a session of its own."""

    def __init__(self, server: str, config: McpServerConfig, secrets: Mapping[str, str],
                 info: McpToolInfo, guard: UrlPolicy | None = None) -> None:
        self.name = (server + "__" + _NAME_BAD.sub("_", info.name))[:64]
        self.description = info.description[:1000] or f"{info.name} (MCP server {server})"
        schema = dict(info.input_schema or {})
        schema.setdefault("type", "object")
        self.parameters: dict[str, Any] = schema
        self.tool = info.name
        self._server = server
        self._config = config
        self._secrets = dict(secrets)
        self._guard = guard

    def call(self, args: Mapping[str, Any]) -> Any:
        """The MCP tool's result."""
        return call_tool(self._server, self._config, self._secrets, self.tool, args,
                         self._guard)


def server_tools(server: str, config: McpServerConfig, secrets: Mapping[str, str],
                 guard: UrlPolicy | None = None) -> list[McpTool]:
    """Every tool of the server, listed now; with ``guard`` each HTTP connection (the
    listing's and every call's) goes to an address it allows, the one it checked."""
    return [McpTool(server, config, secrets, info, guard)
            for info in list_tools(server, config, secrets, guard)]
