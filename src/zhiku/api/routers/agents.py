"""Agents: stored, versioned agents (CRUD, publish, rollback) and their runs (JSON, or
server-sent events as the run goes), over ``zk.agents``.

An agent can reach any knowledge base, model and tool of its workspace, so its routes need a
caller not limited to some names: reading and running take read access, editing, publishing and
running the draft write.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import Field

from zhiku.accounts.principal import Level, Principal
from zhiku.accounts.scope import check_unrestricted
from zhiku.agents.config import AgentConfig
from zhiku.api.deps import Caller, Service
from zhiku.api.schemas import ERRORS, Deleted, Request
from zhiku.api.sse import sse_events
from zhiku.core.names import Name

router = APIRouter(tags=["agents"], responses=ERRORS)

SLUG = r"^[a-z0-9][a-z0-9._-]*$"


class AgentIn(Request):
    """A new agent: its name, optional slug and settings (tools, knowledge bases and model are
    checked on save)."""

    name: Name = Field(max_length=200)
    slug: str | None = Field(default=None, min_length=1, max_length=64, pattern=SLUG)
    config: AgentConfig = Field(description="see docs/agents.md")


class AgentPatch(Request):
    """A new name and/or whole new draft settings."""

    name: Name | None = Field(default=None, max_length=200)
    config: AgentConfig | None = None


class PublishIn(Request):
    """A note for the new version."""

    note: str = Field(default="", max_length=2000)


class RollbackIn(Request):
    """The published version to make live again."""

    version: int = Field(ge=1)


class RunIn(Request):
    """A message; the live version by default, or a published ``version``, or the draft."""

    message: str = Field(min_length=1, max_length=100_000)
    version: int | None = Field(default=None, ge=1)
    draft: bool = False
    stream: bool = Field(default=False, description="server-sent events as the run goes")


def _caller(caller: Principal, level: Level = Level.READ) -> None:
    check_unrestricted(caller, level)


def _named(config: AgentConfig, name: str) -> AgentConfig:
    return config.model_copy(update={"name": name})


@router.get("/v1/agents")
def list_agents(caller: Caller, zk: Service) -> list[dict[str, Any]]:
    """Every agent of the workspace (drafts and live versions)."""
    _caller(caller)
    return [a.to_dict() for a in zk.agents.list()]


@router.post("/v1/agents", status_code=201)
def create_agent(body: AgentIn, caller: Caller, zk: Service) -> dict[str, Any]:
    """Store an agent; an unknown tool, knowledge base or model is a 400 naming it."""
    _caller(caller, Level.WRITE)
    return zk.agents.create(_named(body.config, body.name), body.slug).to_dict()


@router.get("/v1/agents/{slug}")
def get_agent(slug: str, caller: Caller, zk: Service) -> dict[str, Any]:
    """One agent: its draft and its live version."""
    _caller(caller)
    return zk.agents.get(slug).to_dict()


@router.patch("/v1/agents/{slug}")
def update_agent(slug: str, body: AgentPatch, caller: Caller, zk: Service) -> dict[str, Any]:
    """Rename and/or replace the draft (checked like a new agent's)."""
    _caller(caller, Level.WRITE)
    current = zk.agents.get(slug)
    config = body.config or current.draft
    if body.name is not None:
        config = _named(config, body.name)
    elif body.config is not None and "name" not in body.config.model_fields_set:
        config = _named(config, current.name)
    return zk.agents.update(current.slug, config).to_dict()


@router.delete("/v1/agents/{slug}", response_model=Deleted)
def delete_agent(slug: str, caller: Caller, zk: Service) -> Deleted:
    """Delete an agent with its versions."""
    _caller(caller, Level.WRITE)
    zk.agents.delete(slug)
    return Deleted(deleted=True)


@router.post("/v1/agents/{slug}/publish")
def publish_agent(slug: str, body: PublishIn, caller: Caller, zk: Service) -> dict[str, int]:
    """Freeze the draft (checked again) as the next live version (an agent bound to an eval
    set passes the release gate first: 409 naming the worse metrics; ``POST
    /v1/apps/{slug}/publish`` can force it with a reason)."""
    _caller(caller, Level.WRITE)
    return {"version": zk.releases.publish(slug, body.note or None)}


@router.get("/v1/agents/{slug}/versions")
def agent_versions(slug: str, caller: Caller, zk: Service) -> list[dict[str, Any]]:
    """The published versions, newest first."""
    _caller(caller)
    return zk.agents.versions(slug)


@router.post("/v1/agents/{slug}/rollback")
def rollback_agent(slug: str, body: RollbackIn, caller: Caller, zk: Service
                   ) -> dict[str, Any]:
    """Make an earlier published version live again; answers the agent."""
    _caller(caller, Level.WRITE)
    zk.agents.rollback(slug, body.version)
    return zk.agents.get(slug).to_dict()


@router.post(
    "/v1/agents/{slug}/run",
    response_model=None,
    responses={200: {"content": {"application/json": {}, "text/event-stream": {}}}},
)
def run_agent(slug: str, body: RunIn, caller: Caller, zk: Service
              ) -> dict[str, Any] | StreamingResponse:
    """Run an agent on a message. ``stream``: server-sent events (``run_started``, ``step``,
    ``token``, ``tool_call``, ``tool_result``, ``answer``, ``citations``, ``stop``); otherwise
    the result: ``answer``, ``citations``, ``tool_calls``, ``stop_reason``, ``steps``, tokens,
    cost and ``error``. A run the model failed is a result with ``stop_reason`` ``model_error``.
    Running the draft takes write access."""
    _caller(caller, Level.WRITE if body.draft else Level.READ)
    if body.stream:
        events = zk.agents.stream(slug, body.message, version=body.version, draft=body.draft)
        return StreamingResponse(sse_events(events, what="agent stream"),
                                 media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store"})
    return zk.agents.run(slug, body.message, version=body.version, draft=body.draft).to_dict()
