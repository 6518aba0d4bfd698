"""Login sessions and the members of a workspace with their roles; new members are invited
(see ``invitations``)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi import Request as HttpRequest
from pydantic import BaseModel, Field

from zhiku.api.auth import scope
from zhiku.api.auth.invitations import Invitation
from zhiku.api.deps import Caller, Credentials, State
from zhiku.api.schemas import ERRORS, Deleted, Id, Request
from zhiku.core.errors import Conflict

router = APIRouter(tags=["users"], responses=ERRORS)
RoleName = Literal["owner", "admin", "editor", "viewer"]


class LoginIn(Request):
    """Credentials; ``workspace`` picks one of the user's workspaces (needed when they have
    several: the answer is then 409 ``choose_workspace`` listing their names)."""

    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=1024)
    workspace: str | None = Field(default=None, max_length=128)


class SessionOut(BaseModel):
    """A bearer token for the user's session."""

    token: str
    token_type: str = "bearer"
    expires_in: int


class MeOut(BaseModel):
    """Who the caller is."""

    workspace_id: int
    workspace: str
    level: str
    user_id: int | None
    key_id: int | None


class MemberOut(BaseModel):
    """A user and their role in this workspace."""

    id: int
    email: str
    name: str
    role: str
    created_at: str


class InviteIn(Request):
    """Invite an e-mail to this workspace with a role; the person accepts (or declines) it."""

    email: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    role: RoleName = "viewer"


class InvitationOut(BaseModel):
    """A pending invitation."""

    id: int
    workspace: str
    email: str
    role: str
    invited_by: str | None
    created_at: str
    expires_at: str


class NewInvitationOut(InvitationOut):
    """A new invitation with its one-time token, shown this once: hand it to the invitee, who
    signs up with it (``POST /v1/auth/signup``) or, with an account, accepts it once signed in."""

    token: str


def invitation_out(invitation: Invitation) -> InvitationOut:
    """Wire form of a pending invitation."""
    return InvitationOut(
        id=invitation.id,
        workspace=invitation.workspace,
        email=invitation.email,
        role=invitation.role,
        invited_by=invitation.invited_by_email,
        created_at=invitation.created_at,
        expires_at=invitation.expires_at,
    )


class RoleIn(Request):
    """A new role."""

    role: RoleName


def client_address(request: HttpRequest) -> str:
    """The address sign-in failures are counted against."""
    return request.client.host if request.client else "unknown"


@router.post("/v1/auth/login", response_model=SessionOut)
def login(body: LoginIn, state: State, request: HttpRequest) -> SessionOut:
    """Exchange e-mail and password for a session token (429 after repeated failures)."""
    hours = state.settings.api_session_hours
    with state.guard.attempt(body.email, client_address(request)):
        token = state.auth.login(body.email, body.password, body.workspace, hours)
    return SessionOut(token=token, expires_in=int(hours * 3600))


@router.post("/v1/auth/logout", response_model=Deleted)
def logout(caller: Caller, state: State, credentials: Credentials) -> Deleted:
    """End the current session (API keys are revoked under /v1/keys instead)."""
    if caller.user_id is not None and credentials is not None:
        state.auth.logout(credentials.credentials)
    return Deleted()


@router.get("/v1/auth/me", response_model=MeOut)
def me(caller: Caller, state: State) -> MeOut:
    """The caller's identity, workspace and permission level."""
    return MeOut(
        workspace_id=caller.workspace_id,
        workspace=state.auth.workspace_name(caller.workspace_id),
        level=caller.level.name.lower(),
        user_id=caller.user_id,
        key_id=caller.key_id,
    )


@router.get("/v1/users", response_model=list[MemberOut])
def list_members(caller: Caller, state: State) -> list[MemberOut]:
    """Members of the workspace (admins not limited to some names)."""
    scope.check_unrestricted(caller)
    return [MemberOut.model_validate(m, from_attributes=True) for m in state.auth.members(
        caller.workspace_id)]


@router.post("/v1/users", response_model=NewInvitationOut, status_code=202)
def invite_member(body: InviteIn, caller: Caller, state: State) -> NewInvitationOut:
    """Invite an e-mail to the workspace with a role (admins not limited to some names; no role
    above their own). The answer is the same whether or not the e-mail has an account."""
    scope.check_unrestricted(caller)
    scope.check_role(caller, body.role)
    if any(m.email.lower() == body.email.lower() for m in state.auth.members(caller.workspace_id)):
        raise Conflict("that e-mail is already a member of this workspace")
    invitation, token = state.auth.invitations.create(
        caller.workspace_id, body.email, body.role, caller.user_id,
        state.settings.api_invitation_hours,
    )
    return NewInvitationOut(**invitation_out(invitation).model_dump(), token=token)


@router.get("/v1/users/{user_id}", response_model=MemberOut)
def get_member(user_id: Id, caller: Caller, state: State) -> MemberOut:
    """One member (admins not limited to some names, or the user themself)."""
    if caller.user_id != user_id:
        scope.check_unrestricted(caller)
    return MemberOut.model_validate(
        state.auth.member(caller.workspace_id, user_id), from_attributes=True
    )


@router.patch("/v1/users/{user_id}", response_model=MemberOut)
def set_role(user_id: Id, body: RoleIn, caller: Caller, state: State) -> MemberOut:
    """Change a member's role (admins; owners for anything touching owners)."""
    scope.check_unrestricted(caller)
    current = state.auth.member(caller.workspace_id, user_id)
    scope.check_role(caller, body.role)
    scope.check_role(caller, current.role)
    if current.role == "owner" and body.role != "owner":
        _keep_an_owner(state, caller.workspace_id)
    state.auth.set_role(user_id, caller.workspace_id, body.role)
    return MemberOut.model_validate(
        state.auth.member(caller.workspace_id, user_id), from_attributes=True
    )


@router.delete("/v1/users/{user_id}", response_model=Deleted)
def remove_member(user_id: Id, caller: Caller, state: State) -> Deleted:
    """Remove a member from the workspace (admins)."""
    scope.check_unrestricted(caller)
    current = state.auth.member(caller.workspace_id, user_id)
    scope.check_role(caller, current.role)
    if current.role == "owner":
        _keep_an_owner(state, caller.workspace_id)
    state.auth.remove_member(caller.workspace_id, user_id)
    return Deleted()


def _keep_an_owner(state: State, workspace_id: int) -> None:
    if state.auth.owners(workspace_id) <= 1:
        raise Conflict("a workspace keeps at least one owner")
