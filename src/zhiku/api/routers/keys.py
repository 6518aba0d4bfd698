"""API keys: created (the secret is shown once), listed, revoked; a caller sees and hands out
only keys no wider than itself (``auth.scope``)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from zhiku.accounts import keys
from zhiku.accounts.records import ApiKey
from zhiku.api.deps import Caller, State
from zhiku.api.schemas import ERRORS, Id, Request

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


@router.get("/v1/keys", response_model=list[KeyOut])
def list_keys(caller: Caller, state: State) -> list[KeyOut]:
    """The workspace's keys no wider than the caller's own access (admins)."""
    return [key_out(k) for k in keys.list_keys(state.auth, caller)]


@router.post("/v1/keys", response_model=NewKeyOut, status_code=201)
def create_key(body: KeyIn, caller: Caller, state: State) -> NewKeyOut:
    """Create a key (admins); its access and scope can be no more than the creator's."""
    stored, secret = keys.create_key(
        state.auth,
        caller,
        name=body.name,
        access=body.access,
        kbs=body.knowledge_bases,
        assistants=body.assistants,
    )
    return NewKeyOut(**key_out(stored).model_dump(), key=secret)


@router.get("/v1/keys/{key_id}", response_model=KeyOut)
def get_key(key_id: Id, caller: Caller, state: State) -> KeyOut:
    """One key (admins; keys no wider than the caller)."""
    return key_out(keys.get_key(state.auth, caller, key_id))


@router.delete("/v1/keys/{key_id}", response_model=KeyOut)
def revoke_key(key_id: Id, caller: Caller, state: State) -> KeyOut:
    """Revoke a key (admins; keys no wider than the caller, an owner's keys by owners only, any
    key itself): it stops working at once."""
    return key_out(keys.revoke_key(state.auth, caller, key_id))
