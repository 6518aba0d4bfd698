"""Workspaces: the caller's own, and new ones created by a signed-in user."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from zhiku.accounts import workspaces
from zhiku.accounts.records import Workspace
from zhiku.api.deps import Caller, State
from zhiku.api.schemas import ERRORS, Request
from zhiku.core.names import WORKSPACE_NAME_SCHEMA

router = APIRouter(tags=["workspaces"], responses=ERRORS)


class WorkspaceOut(BaseModel):
    """A workspace and the caller's standing in it."""

    id: int
    name: str
    role: str | None = None


class WorkspaceIn(Request):
    """A new workspace. The accounts core checks the name (``check_workspace_name``), as for
    every way of creating one; the schema states the same rule."""

    name: str = Field(json_schema_extra=WORKSPACE_NAME_SCHEMA)


def workspace_out(workspace: Workspace) -> WorkspaceOut:
    """Wire form of a workspace."""
    return WorkspaceOut(id=workspace.id, name=workspace.name, role=workspace.role)


@router.get("/v1/workspaces", response_model=list[WorkspaceOut])
def list_workspaces(caller: Caller, state: State) -> list[WorkspaceOut]:
    """The workspaces the caller can reach (a key: its own only)."""
    return [workspace_out(w) for w in workspaces.reachable(state.auth, caller)]


@router.get("/v1/workspace", response_model=WorkspaceOut)
def current_workspace(caller: Caller, state: State) -> WorkspaceOut:
    """The workspace this token acts in."""
    return workspace_out(workspaces.current(state.auth, caller))


@router.post("/v1/workspaces", response_model=WorkspaceOut, status_code=201)
def create_workspace(body: WorkspaceIn, caller: Caller, state: State) -> WorkspaceOut:
    """Create a workspace; the signed-in user becomes its owner (log in to it to use it)."""
    return workspace_out(workspaces.create(state.auth, caller, body.name))
