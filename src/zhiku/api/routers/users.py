"""Login sessions and the members of a workspace with their roles; new members are invited
(see ``invitations``)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response
from fastapi import Request as HttpRequest
from pydantic import BaseModel, Field

from zhiku.accounts import joining, members, signin
from zhiku.accounts.invitations import Invitation
from zhiku.accounts.records import Member
from zhiku.api.auth import cookies
from zhiku.api.deps import Caller, State
from zhiku.api.mirror import Mirror
from zhiku.api.schemas import ERRORS, Deleted, Id, Request

router = APIRouter(tags=["users"], responses=ERRORS)
RoleName = Literal["owner", "admin", "editor", "viewer"]


class LoginIn(Request):
    """Credentials; ``workspace`` picks one of the user's workspaces (needed when they have
    several: the answer is then 409 ``choose_workspace`` listing their names)."""

    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=1024)
    workspace: str | None = Field(default=None, max_length=128)
    cookie: bool = Field(
        default=False,
        description="Keep the session in an HttpOnly cookie (the console) instead of returning "
        "the token; requests that change something then send X-CSRF-Token: csrf_token.",
    )


class SessionOut(BaseModel):
    """A bearer token for the user's session (none when it went into a cookie)."""

    token: str | None
    token_type: str = "bearer"
    expires_in: int
    csrf_token: str | None = None


class MeOut(BaseModel):
    """Who the caller is."""

    workspace_id: int
    workspace: str
    level: str
    user_id: int | None
    key_id: int | None


class MemberOut(Mirror, source=Member):
    """A user and their role in this workspace."""


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
def login(body: LoginIn, state: State, request: HttpRequest, response: Response) -> SessionOut:
    """Exchange e-mail and password for a session token, or a session cookie (429 after
    repeated failures)."""
    hours = state.settings.api_session_hours
    token = signin.login(state.auth, state.guard, body.email, body.password, body.workspace,
                         address=client_address(request), hours=hours)
    return session_out(token, hours, cookie=body.cookie, request=request, response=response)


def session_out(
    token: str, hours: float, *, cookie: bool, request: HttpRequest, response: Response
) -> SessionOut:
    """The new session as a bearer token, or (``cookie``) as an HttpOnly session cookie plus a
    readable CSRF cookie, the token then staying out of the body."""
    seconds = int(hours * 3600)
    if not cookie:
        return SessionOut(token=token, expires_in=seconds)
    csrf = cookies.csrf_token(token)
    secure = request.url.scheme == "https"
    response.set_cookie(cookies.SESSION_COOKIE, token, max_age=seconds, path="/",
                        secure=secure, httponly=True, samesite="strict")
    response.set_cookie(cookies.CSRF_COOKIE, csrf, max_age=seconds, path="/",
                        secure=secure, httponly=False, samesite="strict")
    return SessionOut(token=None, expires_in=seconds, csrf_token=csrf)


@router.post("/v1/auth/logout", response_model=Deleted)
def logout(caller: Caller, state: State, request: HttpRequest, response: Response) -> Deleted:
    """End the current session and clear its cookies (API keys are revoked under /v1/keys)."""
    token, _ = cookies.credential(request.headers, request.cookies)
    if token:
        signin.logout(state.auth, caller, token)
    for name in (cookies.SESSION_COOKIE, cookies.CSRF_COOKIE):
        response.delete_cookie(name, path="/", httponly=name == cookies.SESSION_COOKIE,
                               samesite="strict")
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


def member_out(member: Member) -> MemberOut:
    """Wire form of a member."""
    return MemberOut.model_validate(member, from_attributes=True)


@router.get("/v1/users", response_model=list[MemberOut])
def list_members(caller: Caller, state: State) -> list[MemberOut]:
    """Members of the workspace (admins not limited to some names)."""
    return [member_out(m) for m in members.list_members(state.auth, caller)]


@router.post("/v1/users", response_model=NewInvitationOut, status_code=202)
def invite_member(body: InviteIn, caller: Caller, state: State) -> NewInvitationOut:
    """Invite an e-mail to the workspace with a role (admins not limited to some names; no role
    above their own). The answer is the same whether or not the e-mail has an account."""
    invitation, token = joining.invite(
        state.auth, caller, body.email, body.role, state.settings.api_invitation_hours
    )
    return NewInvitationOut(**invitation_out(invitation).model_dump(), token=token)


@router.get("/v1/users/{user_id}", response_model=MemberOut)
def get_member(user_id: Id, caller: Caller, state: State) -> MemberOut:
    """One member (admins not limited to some names, or the user themself)."""
    return member_out(members.get_member(state.auth, caller, user_id))


@router.patch("/v1/users/{user_id}", response_model=MemberOut)
def set_role(user_id: Id, body: RoleIn, caller: Caller, state: State) -> MemberOut:
    """Change a member's role (admins; owners for anything touching owners)."""
    return member_out(members.change_role(state.auth, caller, user_id, body.role))


@router.delete("/v1/users/{user_id}", response_model=Deleted)
def remove_member(user_id: Id, caller: Caller, state: State) -> Deleted:
    """Remove a member from the workspace (admins)."""
    members.remove_member(state.auth, caller, user_id)
    return Deleted()
