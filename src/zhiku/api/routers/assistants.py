"""Assistants: stored, versioned answering configurations (CRUD, versions, publish).

The configuration is ``AssistantConfig`` (``model`` = provider/model, none for
extractive answers; retrieval settings nested), the same assistants ``zhiku apps`` shows.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from zhiku.accounts.principal import Level, Principal
from zhiku.api.access import usable_assistants, visible_assistant
from zhiku.api.actor import actor_of
from zhiku.api.deps import Caller, Service, State
from zhiku.api.schemas import ERRORS, Deleted, Request
from zhiku.apps.diff import config_at, config_diff
from zhiku.apps.types import Assistant, AssistantConfig
from zhiku.core.names import Name

router = APIRouter(tags=["assistants"], responses=ERRORS)


class AssistantIn(Request):
    """A new assistant."""

    slug: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]*$")
    name: Name = Field(default="", max_length=200)
    config: AssistantConfig


class AssistantPatch(Request):
    """Changes: a new name and/or a whole new draft configuration."""

    name: Name | None = Field(default=None, max_length=200)
    config: AssistantConfig | None = None


class PublishIn(Request):
    """A note for the new version. For an assistant bound to an eval set, ``force`` publishes a
    draft the gate finds worse than live; the ``reason`` and the caller are recorded."""

    note: str = Field(default="", max_length=2000)
    force: bool = False
    reason: str = Field(default="", max_length=2000)


class AssistantOut(BaseModel):
    """An assistant: its draft (``config``), and the published version chats use (``published``,
    none before the first publish: chats then use the draft)."""

    id: int
    slug: str
    name: str
    config: AssistantConfig
    published_version: int | None
    published: AssistantConfig | None
    unpublished_changes: bool = Field(
        default=False, description="The draft differs from the published version.")
    created_at: str
    updated_at: str


class ReleaseOut(BaseModel):
    """What a version's publish was checked against: the eval set, its scorecard run and the
    live run it was compared with, the primary metrics it was worse on, who forced it, why."""

    eval_set: str
    scorecard_run: int | None
    compared_run: int | None
    regressions: list[dict[str, Any]]
    forced_by: str | None
    force_reason: str | None
    created_at: str


class VersionOut(BaseModel):
    """A frozen, published configuration; ``release``: null when published unchecked."""

    version: int
    config: AssistantConfig
    note: str | None
    created_at: str
    live: bool = False
    release: ReleaseOut | None = None


def assistant_out(a: Assistant) -> AssistantOut:
    """Wire form of an assistant."""
    return AssistantOut(
        id=a.id,
        slug=a.slug,
        name=a.name,
        config=a.draft,
        published_version=a.published_version,
        published=a.published,
        unpublished_changes=a.published is not None and a.published != a.draft,
        created_at=a.created_at,
        updated_at=a.updated_at,
    )


def check_config(caller: Principal, config: AssistantConfig) -> None:
    """A key limited to some knowledge bases cannot reach others through an assistant."""
    caller.check_kbs(config.knowledge_bases)


@router.get("/v1/assistants", response_model=list[AssistantOut])
def list_assistants(caller: Caller, zk: Service) -> list[AssistantOut]:
    """The assistants the caller may use."""
    return [assistant_out(a) for a in usable_assistants(zk, caller)]


@router.post("/v1/assistants", response_model=AssistantOut, status_code=201)
def create_assistant(body: AssistantIn, caller: Caller, zk: Service) -> AssistantOut:
    """Create an assistant over knowledge bases of this workspace; its models must name
    configured chat providers, its reranker a reranking provider. Without a ``model`` it takes
    the workspace's default chat model (``model: null``: extractive answers)."""
    caller.check_assistant(body.slug, Level.WRITE)
    check_config(caller, body.config)
    config = body.config.model_dump(mode="json")
    if "model" not in body.config.model_fields_set:
        del config["model"]  # none chosen: the workspace's default chat model
    made = zk.create_assistant(body.name or body.slug, slug=body.slug, **config)
    return assistant_out(made)


@router.get("/v1/assistants/{slug}", response_model=AssistantOut)
def get_assistant(slug: str, caller: Caller, zk: Service) -> AssistantOut:
    """One assistant."""
    return assistant_out(visible_assistant(zk, caller, slug))


@router.patch("/v1/assistants/{slug}", response_model=AssistantOut)
def update_assistant(
    slug: str, body: AssistantPatch, caller: Caller, zk: Service
) -> AssistantOut:
    """Rename, or replace the draft (chats keep using the published version until the next
    publish)."""
    visible_assistant(zk, caller, slug, Level.WRITE)
    changes: dict[str, Any] = {}
    if body.config is not None:
        check_config(caller, body.config)
        changes = body.config.model_dump(mode="json")
    if body.name:
        changes["name"] = body.name
    return assistant_out(zk.update_assistant(slug, **changes))


@router.delete("/v1/assistants/{slug}", response_model=Deleted)
def delete_assistant(slug: str, caller: Caller, zk: Service) -> Deleted:
    """Delete an assistant."""
    visible_assistant(zk, caller, slug, Level.WRITE)
    zk.delete_assistant(slug)
    return Deleted()


@router.get("/v1/assistants/{slug}/versions", response_model=list[VersionOut])
def versions(slug: str, caller: Caller, zk: Service) -> list[VersionOut]:
    """Published versions, newest first."""
    visible_assistant(zk, caller, slug)
    return [VersionOut(**v) for v in zk.assistant_versions(slug)]


@router.post("/v1/assistants/{slug}/publish", response_model=AssistantOut)
def publish(
    slug: str, body: PublishIn, caller: Caller, zk: Service, state: State
) -> AssistantOut:
    """Freeze the draft as the next version; chats use it from now on. Bound to an eval set,
    a draft worse than live beyond the paired-bootstrap interval is refused (409, naming each
    metric, its two values and the interval) unless ``force`` with a ``reason``."""
    visible_assistant(zk, caller, slug, Level.WRITE)
    zk.publish_assistant(slug, body.note or None, force=body.force, reason=body.reason or None,
                         actor=actor_of(state, caller))
    return assistant_out(zk.get_assistant(slug))


class ChangeOut(BaseModel):
    """One setting that differs: its dotted path and its value on each side."""

    path: str
    before: Any
    after: Any


class DiffOut(BaseModel):
    """The settings that differ between two configurations of an assistant."""

    from_: str = Field(alias="from")
    to: str
    changes: list[ChangeOut]

    model_config = {"populate_by_name": True}


@router.get("/v1/assistants/{slug}/diff", response_model=DiffOut, response_model_by_alias=True)
def diff(
    slug: str,
    caller: Caller,
    zk: Service,
    from_: Annotated[str, Query(alias="from", max_length=20,
                                description="A version number, 'draft' or 'live'.")] = "live",
    to: Annotated[str, Query(max_length=20)] = "draft",
) -> DiffOut:
    """What differs between two configurations: published versions (``3`` or ``v3``), the
    ``draft`` and the ``live`` one (by default: live → draft, the unpublished changes)."""
    found = visible_assistant(zk, caller, slug)
    store = zk.llm.assistants
    before, after = config_at(found, from_, store), config_at(found, to, store)
    changes = [ChangeOut(path=c.path, before=c.before, after=c.after)
               for c in config_diff(before, after)]
    return DiffOut.model_validate({"from": from_, "to": to, "changes": changes})
