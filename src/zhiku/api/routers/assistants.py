"""Assistants: stored, versioned answering configurations (CRUD, versions, publish).

The configuration is issue 3's ``AssistantConfig`` (``model`` = provider/model, none for
extractive answers; retrieval settings nested), the same assistants ``zhiku apps`` shows.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from zhiku.accounts.assistant_scope import assistant_kbs
from zhiku.accounts.principal import Level, Principal
from zhiku.api.chat.types import Assistant, AssistantConfig
from zhiku.api.deps import Caller, State
from zhiku.api.schemas import ERRORS, Deleted, Request
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
    """A note for the new version."""

    note: str = Field(default="", max_length=2000)


class AssistantOut(BaseModel):
    """An assistant: its draft (``config``), and the published version chats use (``published``,
    none before the first publish: chats then use the draft)."""

    id: int
    slug: str
    name: str
    config: AssistantConfig
    published_version: int | None
    published: AssistantConfig | None
    created_at: str
    updated_at: str


class VersionOut(BaseModel):
    """A frozen, published configuration."""

    version: int
    config: AssistantConfig
    note: str | None
    created_at: str


def assistant_out(a: Assistant) -> AssistantOut:
    """Wire form of an assistant."""
    return AssistantOut(
        id=a.id,
        slug=a.slug,
        name=a.name,
        config=a.draft,
        published_version=a.published_version,
        published=a.published,
        created_at=a.created_at,
        updated_at=a.updated_at,
    )


def knowledge_bases(a: Assistant) -> set[str]:
    """Every knowledge base an assistant reaches: its draft's and its live version's."""
    return set(assistant_kbs(a))


def check_config(caller: Principal, config: AssistantConfig) -> None:
    """A key limited to some knowledge bases cannot reach others through an assistant."""
    caller.check_kbs(config.knowledge_bases)


def may_use(caller: Principal, a: Assistant) -> bool:
    """Whether the caller's key reaches the assistant and all its knowledge bases."""
    return caller.may_assistant(a.slug) and all(caller.may_kb(k) for k in knowledge_bases(a))


def visible_assistant(
    state: State, caller: Principal, slug: str, level: Level = Level.READ
) -> Assistant:
    """An assistant the caller may use at ``level`` (``Forbidden``/``NotFound`` otherwise)."""
    caller.check_assistant(slug, level)
    found = state.chat.assistant(caller.workspace_id, slug)
    caller.check_kbs(sorted(knowledge_bases(found)))
    return found


@router.get("/v1/assistants", response_model=list[AssistantOut])
def list_assistants(caller: Caller, state: State) -> list[AssistantOut]:
    """The assistants the caller may use."""
    return [
        assistant_out(a)
        for a in state.chat.list_assistants(caller.workspace_id)
        if may_use(caller, a)
    ]


@router.post("/v1/assistants", response_model=AssistantOut, status_code=201)
def create_assistant(body: AssistantIn, caller: Caller, state: State) -> AssistantOut:
    """Create an assistant over knowledge bases of this workspace."""
    caller.check_assistant(body.slug, Level.WRITE)
    check_config(caller, body.config)
    made = state.chat.create_assistant(caller.workspace_id, body.slug, body.name, body.config)
    return assistant_out(made)


@router.get("/v1/assistants/{slug}", response_model=AssistantOut)
def get_assistant(slug: str, caller: Caller, state: State) -> AssistantOut:
    """One assistant."""
    return assistant_out(visible_assistant(state, caller, slug))


@router.patch("/v1/assistants/{slug}", response_model=AssistantOut)
def update_assistant(
    slug: str, body: AssistantPatch, caller: Caller, state: State
) -> AssistantOut:
    """Rename, or replace the draft (chats keep using the published version until the next
    publish)."""
    visible_assistant(state, caller, slug, Level.WRITE)
    if body.config is not None:
        check_config(caller, body.config)
    changed = state.chat.update_assistant(caller.workspace_id, slug, body.name, body.config)
    return assistant_out(changed)


@router.delete("/v1/assistants/{slug}", response_model=Deleted)
def delete_assistant(slug: str, caller: Caller, state: State) -> Deleted:
    """Delete an assistant."""
    visible_assistant(state, caller, slug, Level.WRITE)
    state.chat.delete_assistant(caller.workspace_id, slug)
    return Deleted()


@router.get("/v1/assistants/{slug}/versions", response_model=list[VersionOut])
def versions(slug: str, caller: Caller, state: State) -> list[VersionOut]:
    """Published versions, newest first."""
    visible_assistant(state, caller, slug)
    return [VersionOut(**v) for v in state.chat.versions(caller.workspace_id, slug)]


@router.post("/v1/assistants/{slug}/publish", response_model=AssistantOut)
def publish(slug: str, body: PublishIn, caller: Caller, state: State) -> AssistantOut:
    """Freeze the draft as the next version; chats use it from now on."""
    visible_assistant(state, caller, slug, Level.WRITE)
    return assistant_out(state.chat.publish(caller.workspace_id, slug, body.note))
