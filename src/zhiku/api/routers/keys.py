"""API keys: created (the secret is shown once), listed, revoked; a caller sees and hands out
only keys no wider than itself (``auth.scope``)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from zhiku.accounts import scope
from zhiku.accounts.principal import Level, Principal
from zhiku.accounts.repo import ApiKey
from zhiku.api.deps import Caller, State
from zhiku.api.schemas import ERRORS, Id, Request
from zhiku.core.errors import Forbidden, NotFound

router = APIRouter(tags=["keys"], responses=ERRORS)


class KeyIn(Request):
    """A new key. ``knowledge_bases``/``assistants`` of null mean every one in the workspace."""

    name: str = Field(default="", max_length=200)
    access: Literal["read", "read_write", "admin"] = "read"
    knowledge_bases: list[str] | None = Field(default=None, max_length=100)
    assistants: list[str] | None = Field(default=None, max_length=100)


class KeyOut(BaseModel):
    """A key as stored (never its secret)."""

    id: int
    prefix: str
    name: str
    access: str
    knowledge_bases: list[str] | None
    assistants: list[str] | None
    created_at: str
    last_used_at: str | None
    revoked_at: str | None


class NewKeyOut(KeyOut):
    """A new key with its secret: shown this once, store it now."""

    key: str


def key_out(key: ApiKey) -> KeyOut:
    """Wire form of a stored key."""
    return KeyOut(
        id=key.id,
        prefix=key.prefix,
        name=key.name,
        access=key.access,
        knowledge_bases=key.kbs,
        assistants=key.assistants,
        created_at=key.created_at,
        last_used_at=key.last_used_at,
        revoked_at=key.revoked_at,
    )


def _visible(caller: Principal, key: ApiKey) -> bool:
    return key.id == caller.key_id or scope.key_visible(caller, key.access, key.kbs, key.assistants)


def _visible_key(caller: Principal, state: State, key_id: int) -> ApiKey:
    caller.require(Level.ADMIN)
    key = state.auth.get_key(caller.workspace_id, key_id)
    if not _visible(caller, key):
        raise NotFound(f"key {key_id} does not exist")
    return key


@router.get("/v1/keys", response_model=list[KeyOut])
def list_keys(caller: Caller, state: State) -> list[KeyOut]:
    """The workspace's keys no wider than the caller's own access (admins)."""
    caller.require(Level.ADMIN)
    return [key_out(k) for k in state.auth.list_keys(caller.workspace_id) if _visible(caller, k)]


@router.post("/v1/keys", response_model=NewKeyOut, status_code=201)
def create_key(body: KeyIn, caller: Caller, state: State) -> NewKeyOut:
    """Create a key (admins); its access and scope can be no more than the creator's."""
    scope.check_key_grant(caller, body.access, body.knowledge_bases, body.assistants)
    stored, secret = state.auth.create_key(
        caller.workspace_id,
        name=body.name,
        access=body.access,
        kbs=body.knowledge_bases,
        assistants=body.assistants,
        created_by=caller.user_id,
    )
    return NewKeyOut(**key_out(stored).model_dump(), key=secret)


@router.get("/v1/keys/{key_id}", response_model=KeyOut)
def get_key(key_id: Id, caller: Caller, state: State) -> KeyOut:
    """One key (admins; keys no wider than the caller)."""
    return key_out(_visible_key(caller, state, key_id))


@router.delete("/v1/keys/{key_id}", response_model=KeyOut)
def revoke_key(key_id: Id, caller: Caller, state: State) -> KeyOut:
    """Revoke a key (admins; keys no wider than the caller, an owner's keys by owners only, any
    key itself): it stops working at once."""
    key = _visible_key(caller, state, key_id)
    by_owner = state.auth.role_of(caller.workspace_id, key.created_by) == "owner"
    if by_owner and key.id != caller.key_id and caller.level < Level.OWNER:
        raise Forbidden("only an owner can revoke a key an owner created")
    return key_out(state.auth.revoke_key(caller.workspace_id, key_id))
