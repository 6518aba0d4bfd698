"""Tool sources: the MCP servers and OpenAPI specs whose tools agents and workflows use, over
``zk.agents``.

Registering a stdio MCP server makes this server run its command, and a source's secrets reach
every agent of the workspace, so every route takes an admin not limited to some names. Secrets
(HTTP headers, environment values) are stored encrypted and never returned: answers list their
names only.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import Field

from zhiku.accounts.principal import Level, Principal
from zhiku.accounts.scope import check_unrestricted
from zhiku.api.deps import Caller, Service
from zhiku.api.schemas import ERRORS, Deleted, Request
from zhiku.core.errors import InvalidInput
from zhiku.service import Zhiku
from zhiku.tools.sources import ToolSource

router = APIRouter(tags=["tool sources"], responses=ERRORS)


class ToolSourceIn(Request):
    """An MCP server (a stdio ``command`` with ``args`` and secret ``env``, or a
    streamable-HTTP ``url`` with secret ``headers``) or an OpenAPI 3 spec (``spec``, or a
    ``spec_url`` fetched through the URL guard; ``base_url``; secret ``auth_headers``)."""

    name: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9-]+$",
                      description="prefixes the source's tools: name__tool")
    kind: Literal["mcp", "openapi"]
    replace: bool = False
    command: str | None = Field(default=None, min_length=1, max_length=4096)
    args: list[str] = Field(default_factory=list, max_length=100)
    env: dict[str, str] = Field(default_factory=dict)
    url: str | None = Field(default=None, max_length=4096)
    headers: dict[str, str] = Field(default_factory=dict)
    connect_timeout_s: float = Field(20.0, gt=0, le=300)
    call_timeout_s: float = Field(60.0, gt=0, le=3600)
    spec: dict[str, Any] | None = None
    spec_url: str | None = Field(default=None, max_length=4096)
    base_url: str | None = Field(default=None, max_length=4096)
    auth_headers: dict[str, str] = Field(default_factory=dict)
    timeout_s: float = Field(30.0, gt=0, le=600)


def _caller(caller: Principal) -> None:
    check_unrestricted(caller, Level.ADMIN)


def _mcp(body: ToolSourceIn, zk: Zhiku) -> ToolSource:
    if body.spec is not None or body.spec_url or body.base_url or body.auth_headers:
        raise InvalidInput("spec, spec_url, base_url and auth_headers are for OpenAPI sources")
    return zk.agents.add_mcp_server(
        body.name, command=body.command, args=body.args, url=body.url, env=body.env,
        headers=body.headers, replace=body.replace, connect_timeout_s=body.connect_timeout_s,
        call_timeout_s=body.call_timeout_s)


def _openapi(body: ToolSourceIn, zk: Zhiku) -> ToolSource:
    if body.command or body.args or body.env or body.url or body.headers:
        raise InvalidInput("command, args, env, url and headers are for MCP servers")
    if (body.spec is None) == (body.spec_url is None):
        raise InvalidInput("an OpenAPI source has a spec or a spec_url (one of them)")
    spec = body.spec if body.spec is not None else zk.agents.spec_from_url(str(body.spec_url))
    return zk.agents.add_openapi(
        body.name, spec, base_url=body.base_url, auth_headers=body.auth_headers,
        timeout_s=body.timeout_s, replace=body.replace)


@router.get("/v1/tool-sources")
def list_sources(caller: Caller, zk: Service) -> list[dict[str, Any]]:
    """Every registered source: its settings and the names (only) of its secrets."""
    _caller(caller)
    return [s.to_dict() for s in zk.agents.sources.list()]


@router.post("/v1/tool-sources", status_code=201)
def add_source(body: ToolSourceIn, caller: Caller, zk: Service) -> dict[str, Any]:
    """Register an MCP server or an OpenAPI spec (``replace``: overwrite one of that name)."""
    _caller(caller)
    made = _mcp(body, zk) if body.kind == "mcp" else _openapi(body, zk)
    return made.to_dict()


@router.get("/v1/tool-sources/{source}")
def get_source(source: str, caller: Caller, zk: Service) -> dict[str, Any]:
    """One source: its settings and the names (only) of its secrets."""
    _caller(caller)
    return zk.agents.sources.get(source).to_dict()


@router.delete("/v1/tool-sources/{source}", response_model=Deleted)
def delete_source(source: str, caller: Caller, zk: Service) -> Deleted:
    """Remove a source (agents naming its tools fail their next check)."""
    _caller(caller)
    zk.agents.sources.delete(source)
    return Deleted(deleted=True)


@router.get("/v1/tool-sources/{source}/tools")
def source_tools(source: str, caller: Caller, zk: Service) -> list[dict[str, Any]]:
    """The tools a source offers (an MCP server is asked now: one that fails, hangs or never
    answers within its time-outs is a 502 ``mcp_error``)."""
    _caller(caller)
    return zk.agents.tools(source)
