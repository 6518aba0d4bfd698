"""``zk.agents``: stored agents, the workspace's tool sources, and agent runs."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from zhiku.agents.builtins import HttpGet, KnowledgeSearch
from zhiku.agents.config import AgentConfig
from zhiku.agents.events import AgentSink
from zhiku.agents.loop import AgentLoop
from zhiku.agents.result import AgentResult
from zhiku.agents.store import AgentStore, StoredAgent
from zhiku.agents.stream import AgentEvents
from zhiku.core.errors import Forbidden, InvalidInput
from zhiku.models.llm.types import CallRecord, CancelToken
from zhiku.tools.registry import WorkspaceTools
from zhiku.tools.sources import ToolSource, ToolSourceStore
from zhiku.workflows.tools import ToolRegistry

if TYPE_CHECKING:
    from zhiku.service import Zhiku
    from zhiku.store.db import Connection

AgentSpec = AgentConfig | Mapping[str, Any] | str
"""An agent: its config, a mapping of one, or the slug of a stored agent."""


def workspace_tools(zk: Zhiku) -> WorkspaceTools:
    """The built-in tools and the tools of ``zk``'s registered sources."""
    from zhiku.ingest.fetch import UrlPolicy

    return WorkspaceTools(tool_sources(zk), UrlPolicy(zk.settings.api_url_allowlist))


def tool_sources(zk: Zhiku) -> ToolSourceStore:
    """The store of ``zk``'s tool sources (secrets sealed with the installation's key)."""
    from zhiku.models.llm.secrets import SecretBox

    return ToolSourceStore(_db(zk), zk.workspace_id, SecretBox(zk.settings.home), zk.audit)


def _db(zk: Zhiku) -> Any:
    return zk.db


class Agents:
    """The agents and tool sources of one workspace."""

    def __init__(self, zk: Zhiku) -> None:
        self._zk = zk
        self.store = AgentStore(_db(zk), zk.workspace_id)
        self.sources = tool_sources(zk)

    # -- agents ---------------------------------------------------------------------------
    def create(self, config: AgentConfig | Mapping[str, Any], slug: str | None = None
               ) -> StoredAgent:
        """Store a new agent (its tools must exist)."""
        cfg = self._config(config)
        self.check(cfg)
        made = self.store.create(cfg, slug)
        self._zk.audit("agent.create", "agent", made.id, made.slug)
        return made

    def update(self, slug: str, config: AgentConfig | Mapping[str, Any]) -> StoredAgent:
        """Replace a stored agent's settings."""
        cfg = self._config(config)
        self.check(cfg)
        updated = self.store.update(slug, cfg)
        self._zk.audit("agent.update", "agent", updated.id, updated.slug)
        return updated

    def get(self, slug: str) -> StoredAgent:
        """A stored agent by slug or name."""
        return self.store.get(slug)

    def publish(self, slug: str, note: str | None = None, *, expect: AgentConfig | None = None,
                on_publish: Callable[[Connection, int, int], None] | None = None) -> int:
        """Freeze the draft (checked again: tools may have gone) as the next live version.
        ``expect`` and ``on_publish``: see the store's ``publish``."""
        self.check(self.store.get(slug).draft)
        version = self.store.publish(slug, note, expect=expect, on_publish=on_publish)
        self._zk.audit("agent.publish", "agent", None, slug,
                       detail={"version": version, "note": note})
        return version

    def rollback(self, slug: str, version: int) -> None:
        """Make an earlier published version live again."""
        self.store.rollback(slug, version)
        self._zk.audit("agent.rollback", "agent", None, slug, detail={"version": version})

    def versions(self, slug: str) -> builtins.list[dict[str, Any]]:
        """The published versions, newest first."""
        return self.store.versions(slug)

    def list(self) -> builtins.list[StoredAgent]:
        """Every stored agent."""
        return self.store.list()

    def delete(self, slug: str) -> None:
        """Delete a stored agent."""
        self.store.delete(slug)
        self._zk.audit("agent.delete", "agent", None, slug)

    def check(self, config: AgentConfig) -> None:
        """Raise ``InvalidInput`` naming every tool, knowledge base or model that is unknown."""
        tools = workspace_tools(self._zk)
        missing = [n for n in config.tools if n not in tools]
        if missing:
            raise InvalidInput(f"unknown tools: {', '.join(missing)}", tools=missing)
        known = {kb.name for kb in self._zk.list_kbs()}
        absent = [kb for kb in config.knowledge_bases if kb not in known]
        if absent:
            raise InvalidInput(f"unknown knowledge bases: {', '.join(absent)}")
        self._zk.llm.providers.config_for(config.model)

    # -- tool sources ---------------------------------------------------------------------
    def add_mcp_server(self, name: str, *, command: str | None = None,
                       args: builtins.list[str] | None = None, url: str | None = None,
                       env: Mapping[str, str] | None = None,
                       headers: Mapping[str, str] | None = None, replace: bool = False,
                       connect_timeout_s: float = 20.0, call_timeout_s: float = 60.0,
                       operator: bool = False) -> ToolSource:
        """Register an MCP server: a stdio ``command`` (secret ``env``) or a streamable-HTTP
        ``url`` (secret ``headers``, the host checked by the URL guard).

        A stdio server runs a program on this machine: unless ``operator`` (the machine's own
        shell, i.e. the CLI) registers it, the program must be in ``mcp_stdio_commands``.
        """
        from zhiku.ingest.fetch import UrlPolicy, check_url
        from zhiku.mcp_client.config import McpServerConfig

        if (command is None) == (url is None):
            raise InvalidInput("an MCP server has a command or a URL (one of them)")
        allowed = self._zk.settings.mcp_stdio_commands
        if command is not None and not operator and command not in allowed:
            raise Forbidden(f"'{command}' is not a program this server lets workspaces run as "
                            "an MCP server (the operator lists those in "
                            "ZHIKU_MCP_STDIO_COMMANDS)")
        try:
            config = McpServerConfig(transport="stdio" if command else "http", command=command,
                                     args=list(args or []), url=url,
                                     connect_timeout_s=connect_timeout_s,
                                     call_timeout_s=call_timeout_s, operator=operator)
        except ValueError as exc:
            raise InvalidInput(f"bad MCP server settings: {exc}") from None
        if url is not None and not operator:
            check_url(url, UrlPolicy(self._zk.settings.api_url_allowlist))
        secrets = dict(env or {}) if command else dict(headers or {})
        return self.sources.add(ToolSource(name, "mcp", config.model_dump(exclude_none=True),
                                           secrets), replace=replace)

    def add_openapi(self, name: str, spec: Mapping[str, Any], *, base_url: str | None = None,
                    auth_headers: Mapping[str, str] | None = None, timeout_s: float = 30.0,
                    max_bytes: int = 1_000_000, replace: bool = False) -> ToolSource:
        """Register an OpenAPI 3 spec; each operation becomes a tool ``name__operationId``.
        ``auth_headers`` (e.g. ``{"Authorization": "Bearer …"}``) are stored encrypted."""
        from zhiku.ingest.fetch import UrlPolicy
        from zhiku.tools.openapi import OpenAPISettings, operations

        settings = OpenAPISettings(base_url, timeout_s, max_bytes) if base_url else None
        operations(name, spec, settings, {}, UrlPolicy())  # checks the spec before storing
        config: dict[str, Any] = {"spec": dict(spec), "timeout_s": timeout_s,
                                  "max_bytes": max_bytes}
        if base_url:
            config["base_url"] = base_url
        return self.sources.add(ToolSource(name, "openapi", config, dict(auth_headers or {})),
                                replace=replace)

    def spec_from_url(self, url: str, max_bytes: int = 1_000_000) -> dict[str, Any]:
        """An OpenAPI document (JSON or YAML) fetched through the URL guard (internal
        addresses need ``api_url_allowlist``), at most ``max_bytes``."""
        import json

        import yaml

        from zhiku.ingest.fetch import UrlPolicy, fetch

        settings = self._zk.settings
        got = fetch(url, UrlPolicy(settings.api_url_allowlist), max_bytes=max_bytes,
                    max_redirects=settings.api_url_max_redirects,
                    timeout=settings.api_url_timeout, deadline=settings.api_url_deadline)
        try:
            text = got.data.decode("utf-8")
            data = json.loads(text) if text.lstrip().startswith("{") else yaml.safe_load(text)
        except (ValueError, yaml.YAMLError) as exc:  # UnicodeDecodeError is a ValueError
            raise InvalidInput(f"the spec at the URL is not JSON or YAML: {exc}") from None
        if not isinstance(data, dict):
            raise InvalidInput("the spec at the URL does not hold an object")
        return data

    def tools(self, source: str | None = None) -> builtins.list[dict[str, Any]]:
        """The tools of one source (or every tool), as ``{"name", "description",
        "parameters"}``."""
        registry = workspace_tools(self._zk)
        if source is not None:
            found = list(registry.load(source).values())
        else:
            found = [registry.get(n) for n in registry.names()]
        return [{"name": t.name, "description": t.description, "parameters": t.parameters}
                for t in found]

    # -- runs -----------------------------------------------------------------------------
    def run(self, agent: AgentSpec, message: str, *, on_event: AgentSink | None = None,
            cancel: CancelToken | None = None, registry: ToolRegistry | None = None,
            version: int | None = None, draft: bool = False) -> AgentResult:
        """Run ``agent`` on ``message`` (a stored agent's live version, or ``version``, or its
        ``draft``); events go to ``on_event``; model calls are metered into the call log
        (purpose ``agent``)."""
        if not message.strip():
            raise InvalidInput("the message is empty")
        cfg = self.resolve(agent, version=version, draft=draft)
        loop = self._loop(cfg, registry)
        record = self._recorder(agent, version, draft, message)
        return record(loop.run(message, on_event, cancel))

    def stream(self, agent: AgentSpec, message: str, *, cancel: CancelToken | None = None,
               registry: ToolRegistry | None = None, version: int | None = None,
               draft: bool = False) -> AgentEvents:
        """The run as an iterator of events; ``result`` is set once it has finished."""
        if not message.strip():
            raise InvalidInput("the message is empty")
        cfg = self.resolve(agent, version=version, draft=draft)
        loop = self._loop(cfg, registry)
        record = self._recorder(agent, version, draft, message)
        return AgentEvents(lambda sink, token: record(loop.run(message, sink, token)), cancel)

    def runs(self, slug: str, limit: int = 50, offset: int = 0
             ) -> builtins.list[dict[str, Any]]:
        """A stored agent's recorded runs, newest first."""
        return self.store.runs(slug, limit, offset)

    def get_run(self, run_id: int) -> dict[str, Any]:
        """One recorded run with its tool calls."""
        return self.store.run(run_id)

    def _recorder(self, agent: AgentSpec, version: int | None, draft: bool,
                  message: str) -> Callable[[AgentResult], AgentResult]:
        """What stores a finished run: a stored agent's runs are recorded (``run_id`` set),
        an unsaved config's are not."""
        if not isinstance(agent, str):
            return lambda result: result
        stored = self.store.get(agent)
        slug = stored.slug
        number = None if draft else version if version is not None else stored.published_version

        def record(result: AgentResult) -> AgentResult:
            result.run_id = self.store.record_run(slug, number, message, result)
            return result

        return record

    def resolve(self, agent: AgentSpec, *, version: int | None = None,
                draft: bool = False) -> AgentConfig:
        """The settings of ``agent``: a stored one's live version (the draft before any),
        a published ``version``, or its ``draft``."""
        if not isinstance(agent, str):
            if version is not None or draft:
                raise InvalidInput("versions and drafts belong to stored agents")
            return self._config(agent)
        if draft and version is not None:
            raise InvalidInput("run the draft or a version, not both")
        if version is not None:
            return self.store.version(agent, version)
        stored = self.store.get(agent)
        return stored.draft if draft else stored.live

    @staticmethod
    def _config(config: AgentConfig | Mapping[str, Any]) -> AgentConfig:
        if isinstance(config, AgentConfig):
            return config
        try:
            return AgentConfig.model_validate(dict(config))
        except ValueError as exc:
            raise InvalidInput(f"bad agent settings: {exc}") from None

    def _loop(self, cfg: AgentConfig, registry: ToolRegistry | None) -> AgentLoop:
        from zhiku.workflows.services import ZhikuServices

        base = registry or workspace_tools(self._zk)
        run_tools = _RunTools(base)
        services = ZhikuServices(self._zk, base, purpose="agent")
        knowledge = None
        offered: builtins.list[str] = []
        if cfg.knowledge_bases:
            kbs = list(cfg.knowledge_bases)
            knowledge = KnowledgeSearch(
                lambda query, k: services.search(kbs, query, top_k=k), cfg.top_k)
            run_tools.add(knowledge)
            offered.append(knowledge.name)
        if cfg.http_hosts:
            http = HttpGet(cfg.http_hosts, services.url_policy(), timeout=cfg.tool_timeout_s)
            run_tools.add(http)
            offered.append(http.name)
        for name in cfg.tools:
            run_tools.get(name)  # an unknown tool, or a source that fails, is an error now
            if name not in offered:
                offered.append(name)
        calls: builtins.list[CallRecord] = []
        model = services.chat_model(cfg.model, calls)
        return AgentLoop(cfg, model, run_tools, offered, calls, knowledge)


class _RunTools(ToolRegistry):
    """One run's tools: its own (knowledge search, HTTP GET) before the workspace's."""

    def __init__(self, base: ToolRegistry) -> None:
        super().__init__()
        self._base = base

    def add(self, tool: Any) -> None:
        self._tools[tool.name] = tool

    def __contains__(self, name: object) -> bool:
        return super().__contains__(name) or name in self._base

    def get(self, name: str) -> Any:
        if super().__contains__(name):
            return super().get(name)
        return self._base.get(name)
