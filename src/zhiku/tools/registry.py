"""A workspace's tools: the built-ins, and the tools of its registered sources (MCP servers,
OpenAPI specs), named ``source__tool`` and loaded the first time a source is used."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

from zhiku.core.errors import InvalidInput, ZhikuError
from zhiku.ingest.fetch import UrlPolicy, check_url
from zhiku.tools.sources import ToolSource, ToolSourceStore
from zhiku.workflows.tools import Calculator, CurrentTime, Tool, ToolRegistry

log = logging.getLogger(__name__)


def source_tools(source: ToolSource, policy: UrlPolicy) -> list[Tool]:
    """The tools of one source (an MCP server is asked for its list now)."""
    if source.kind == "openapi":
        from zhiku.tools.openapi import OpenAPISettings, operations

        base = source.config.get("base_url")
        settings = OpenAPISettings(
            str(base), float(source.config.get("timeout_s", 30.0)),
            int(source.config.get("max_bytes", 1_000_000))) if base else None
        return list(operations(source.name, source.config["spec"], settings, source.secrets,
                               policy))
    from zhiku.mcp_client.config import McpServerConfig
    from zhiku.mcp_client.tools import server_tools

    config = McpServerConfig.model_validate(source.config)
    if config.url is None or config.operator:
        return list(server_tools(source.name, config, source.secrets))
    check_url(config.url, policy)  # a clear refusal now; each connection is checked again
    return list(server_tools(source.name, config, source.secrets, policy))


class WorkspaceTools(ToolRegistry):
    """Built-ins up front; a source's tools on the first lookup of a ``source__…`` name."""

    def __init__(self, sources: ToolSourceStore, policy: UrlPolicy,
                 base: Iterable[Tool] | None = None) -> None:
        super().__init__(base if base is not None else [CurrentTime(), Calculator()])
        self._sources = sources
        self._policy = policy
        self._loaded: dict[str, dict[str, Tool]] = {}
        self._lock = threading.Lock()

    def load(self, source: str) -> dict[str, Tool]:
        """The tools of ``source`` by name (listed once per registry)."""
        with self._lock:
            if source not in self._loaded:
                found = self._sources.get(source)
                self._loaded[source] = {t.name: t for t in source_tools(found, self._policy)}
            return self._loaded[source]

    def _source_of(self, name: str) -> str | None:
        prefix, sep, _rest = name.partition("__")
        if not sep or self._sources.find(prefix) is None:
            return None
        return prefix

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        if super().__contains__(name):
            return True
        source = self._source_of(name)
        return source is not None and name in self.load(source)

    def get(self, name: str) -> Tool:
        """The tool called ``name`` (a source's failure to list is raised as it is)."""
        if super().__contains__(name):
            return super().get(name)
        source = self._source_of(name)
        if source is not None:
            tools = self.load(source)
            if name in tools:
                return tools[name]
        raise InvalidInput(f"unknown tool '{name}'")

    def names(self) -> list[str]:
        """Built-ins and the tools of every source that lists them (others are logged)."""
        out = set(super().names())
        for source in self._sources.list():
            try:
                out.update(self.load(source.name))
            except ZhikuError as exc:
                log.warning("tool source %s cannot list its tools: %s", source.name, exc)
        return sorted(out)
