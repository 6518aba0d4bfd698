"""Workspaces: the caller's own, and new ones created by a signed-in user."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from zhiku.api.deps import Caller, State
from zhiku.api.schemas import ERRORS, Request
from zhiku.core.names import Name

router = APIRouter(tags=["workspaces"], responses=ERRORS)


class WorkspaceOut(BaseModel):
    """A workspace and the caller's standing in it."""

    id: int
    name: str
    role: str | None = None


class WorkspaceIn(Request):
    """A new workspace."""

    name: Name = Field(min_length=1, max_length=128)


@router.get("/v1/workspaces", response_model=list[WorkspaceOut])
def list_workspaces(caller: Caller, state: State) -> list[WorkspaceOut]:
    """The workspaces the caller can reach (a key: its own only)."""
    if caller.user_id is None:
        name = state.auth.workspace_name(caller.workspace_id)
        return [WorkspaceOut(id=caller.workspace_id, name=name)]
    return [
        WorkspaceOut(id=w["id"], name=w["name"], role=w["role"])
        for w in state.auth.user_workspaces(caller.user_id)
    ]


@router.get("/v1/workspace", response_model=WorkspaceOut)
def current_workspace(caller: Caller, state: State) -> WorkspaceOut:
    """The workspace this token acts in."""
    return WorkspaceOut(
        id=caller.workspace_id,
        name=state.auth.workspace_name(caller.workspace_id),
        role=caller.level.name.lower(),
    )


@router.post("/v1/workspaces", response_model=WorkspaceOut, status_code=201)
def create_workspace(body: WorkspaceIn, caller: Caller, state: State) -> WorkspaceOut:
    """Create a workspace; the signed-in user becomes its owner (log in to it to use it)."""
    user_id = caller.require_user()
    workspace_id = state.auth.create_workspace(body.name)
    state.auth.set_role(user_id, workspace_id, "owner")
    return WorkspaceOut(id=workspace_id, name=body.name, role="owner")
