"""Groups of readers (admin): create, rename, delete, members; and the groups a document or a
source is restricted to (docs/permissions.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field, model_validator

from zhiku.accounts.principal import Level, Principal
from zhiku.api.deps import Caller, Service
from zhiku.api.routers.documents import DocumentOut, doc_out
from zhiku.api.schemas import ERRORS, MAX_ID, Deleted, Id, Request
from zhiku.core.errors import Forbidden
from zhiku.permissions.records import Group

router = APIRouter(tags=["permissions"], responses=ERRORS)

GroupRef = Annotated[int, Field(ge=1, le=MAX_ID)] | Annotated[str, Field(min_length=1,
                                                                          max_length=100)]


class GroupIn(Request):
    """A new group: a name unique in the workspace."""

    name: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=1000)


class GroupPatch(Request):
    """A new name and/or description."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=1000)


class MemberIn(Request):
    """A user or an API key of the workspace (exactly one)."""

    user_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    key_id: int | None = Field(default=None, ge=1, le=MAX_ID)

    @model_validator(mode="after")
    def _one(self) -> MemberIn:
        if (self.user_id is None) == (self.key_id is None):
            raise ValueError("name either user_id or key_id")
        return self


class GroupsIn(Request):
    """The groups (ids or names) that may read it; null: everyone in the workspace; an empty
    list: administrators only."""

    groups: list[GroupRef] | None = Field(max_length=100)


class GroupOut(BaseModel):
    """A group with its members' user and key ids."""

    id: int
    name: str
    description: str
    created_at: str
    users: list[int]
    keys: list[int]


class RestrictionOut(BaseModel):
    """Who may read a source's documents: ``groups`` null means everyone in the workspace."""

    source_id: int
    groups: list[int] | None


def _manager(caller: Principal) -> None:
    """Groups span the workspace: an admin not limited to some names manages them."""
    caller.require(Level.ADMIN)
    if caller.kbs is not None or caller.assistants is not None:
        raise Forbidden("groups need an admin not limited to some names")


def group_out(group: Group) -> GroupOut:
    """Wire form of a group."""
    return GroupOut(**group.as_dict())


@router.get("/v1/groups", response_model=list[GroupOut])
def list_groups(caller: Caller, zk: Service) -> list[GroupOut]:
    """Every group of the workspace with its members."""
    _manager(caller)
    return [group_out(g) for g in zk.permissions.list_groups()]


@router.post("/v1/groups", response_model=GroupOut, status_code=201)
def create_group(body: GroupIn, caller: Caller, zk: Service) -> GroupOut:
    """Create a group."""
    _manager(caller)
    return group_out(zk.permissions.create_group(body.name, body.description))


@router.get("/v1/groups/{group_id}", response_model=GroupOut)
def get_group(group_id: Id, caller: Caller, zk: Service) -> GroupOut:
    """One group with its members."""
    _manager(caller)
    return group_out(zk.permissions.group(group_id))


@router.patch("/v1/groups/{group_id}", response_model=GroupOut)
def update_group(group_id: Id, body: GroupPatch, caller: Caller, zk: Service) -> GroupOut:
    """Rename a group or change its description."""
    _manager(caller)
    return group_out(zk.permissions.update_group(group_id, name=body.name,
                                                 description=body.description))


@router.delete("/v1/groups/{group_id}", response_model=Deleted)
def delete_group(group_id: Id, caller: Caller, zk: Service) -> Deleted:
    """Delete a group. What it restricted stays restricted (to administrators when no other
    group is left): deleting a group never opens a document to everyone."""
    _manager(caller)
    zk.permissions.delete_group(group_id)
    return Deleted()


@router.post("/v1/groups/{group_id}/members", response_model=GroupOut)
def add_member(group_id: Id, body: MemberIn, caller: Caller, zk: Service) -> GroupOut:
    """Add a user or an API key of the workspace to a group."""
    _manager(caller)
    return group_out(zk.permissions.add_member(group_id, user_id=body.user_id,
                                               key_id=body.key_id))


@router.delete("/v1/groups/{group_id}/members/users/{user_id}", response_model=GroupOut)
def remove_user(group_id: Id, user_id: Id, caller: Caller, zk: Service) -> GroupOut:
    """Remove a user from a group (one who is not in it: nothing to do)."""
    _manager(caller)
    return group_out(zk.permissions.remove_member(group_id, user_id=user_id))


@router.delete("/v1/groups/{group_id}/members/keys/{key_id}", response_model=GroupOut)
def remove_key(group_id: Id, key_id: Id, caller: Caller, zk: Service) -> GroupOut:
    """Remove an API key from a group (one that is not in it: nothing to do)."""
    _manager(caller)
    return group_out(zk.permissions.remove_member(group_id, key_id=key_id))


@router.put("/v1/kbs/{kb}/documents/{doc_id}/groups", response_model=DocumentOut)
def set_document_groups(kb: str, doc_id: Id, body: GroupsIn, caller: Caller,
                        zk: Service) -> DocumentOut:
    """Restrict a document to groups, or open it to everyone (``groups`` null)."""
    caller.check_kb(kb, Level.ADMIN)
    doc = zk.permissions.set_document_groups(kb, [doc_id], body.groups)[0]
    return doc_out(kb, doc, zk.permissions.groups_of(doc))


@router.get("/v1/sources/{source_id}/groups", response_model=RestrictionOut)
def get_source_groups(source_id: Id, caller: Caller, zk: Service) -> RestrictionOut:
    """The groups a source's documents are restricted to."""
    source = zk.sources.get(source_id)
    caller.check_kb(source.kb, Level.ADMIN)
    return RestrictionOut(source_id=source.id, groups=zk.permissions.source_groups(source.id))


@router.put("/v1/sources/{source_id}/groups", response_model=RestrictionOut)
def set_source_groups(source_id: Id, body: GroupsIn, caller: Caller,
                      zk: Service) -> RestrictionOut:
    """Restrict a source and every document it synced (and will sync) to groups, or open
    them to everyone (``groups`` null)."""
    source = zk.sources.get(source_id)
    caller.check_kb(source.kb, Level.ADMIN)
    groups = zk.permissions.set_source_groups(source.id, source.name, body.groups)
    return RestrictionOut(source_id=source.id, groups=groups)
