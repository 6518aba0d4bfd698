"""Invitations: admins list and revoke their workspace's pending ones; the invitee lists theirs
and accepts or declines, or signs up with the one-time token. Invite with ``POST /v1/users``."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from fastapi import Request as HttpRequest
from pydantic import Field

from zhiku.accounts import joining, signin
from zhiku.api.deps import Caller, State
from zhiku.api.routers.users import (
    InvitationOut,
    SessionOut,
    client_address,
    invitation_out,
    session_out,
)
from zhiku.api.routers.workspaces import WorkspaceOut
from zhiku.api.schemas import ERRORS, Deleted, Id, Request

router = APIRouter(tags=["users"], responses=ERRORS)


class SignupIn(Request):
    """An invitation token and a password: a new account for the invited e-mail (or, when the
    e-mail has one, that account's password) joins the workspace."""

    token: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1024)
    name: str = Field(default="", max_length=200)
    cookie: bool = Field(
        default=False, description="Keep the session in an HttpOnly cookie, as login does."
    )


@router.get("/v1/invitations", response_model=list[InvitationOut])
def list_invitations(caller: Caller, state: State) -> list[InvitationOut]:
    """The workspace's pending invitations (admins not limited to some names)."""
    return [invitation_out(i) for i in joining.pending(state.auth, caller)]


@router.delete("/v1/invitations/{invitation_id}", response_model=Deleted)
def revoke_invitation(invitation_id: Id, caller: Caller, state: State) -> Deleted:
    """Revoke a pending invitation: its token stops working (admins; owners for owner roles)."""
    joining.revoke(state.auth, caller, invitation_id)
    return Deleted()


@router.get("/v1/auth/invitations", response_model=list[InvitationOut])
def my_invitations(caller: Caller, state: State) -> list[InvitationOut]:
    """Pending invitations addressed to the signed-in user's e-mail, in any workspace."""
    return [invitation_out(i) for i in joining.addressed_to(state.auth, caller)]


@router.post("/v1/auth/invitations/{invitation_id}/accept", response_model=WorkspaceOut)
def accept_invitation(invitation_id: Id, caller: Caller, state: State) -> WorkspaceOut:
    """Join the workspace with the invited role (sign in to it to work there)."""
    invitation, role = joining.accept(state.auth, caller, invitation_id)
    return WorkspaceOut(id=invitation.workspace_id, name=invitation.workspace, role=role)


@router.post("/v1/auth/invitations/{invitation_id}/decline", response_model=Deleted)
def decline_invitation(invitation_id: Id, caller: Caller, state: State) -> Deleted:
    """Turn an invitation down; it is deleted."""
    joining.decline(state.auth, caller, invitation_id)
    return Deleted()


@router.post("/v1/auth/signup", response_model=SessionOut, status_code=status.HTTP_201_CREATED)
def signup(
    body: SignupIn, state: State, request: HttpRequest, response: Response
) -> SessionOut:
    """Use an invitation token: create the account (or sign in to the existing one), join the
    workspace, and get a session in it. The token works once."""
    hours = state.settings.api_session_hours
    token = signin.signup(state.auth, state.guard, body.token, body.password, body.name,
                          address=client_address(request), hours=hours)
    return session_out(token, hours, cookie=body.cookie, request=request, response=response)
