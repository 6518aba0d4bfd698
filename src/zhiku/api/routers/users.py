"""Login sessions and the members of a workspace with their roles."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response
from fastapi import Request as HttpRequest
from pydantic import BaseModel, Field

from zhiku.api.auth import cookies
from zhiku.api.auth.errors import Forbidden
from zhiku.api.auth.principal import Level
from zhiku.api.deps import Caller, State
from zhiku.api.schemas import ERRORS, Deleted, Id, Request
from zhiku.core.errors import Conflict

router = APIRouter(tags=["users"], responses=ERRORS)
RoleName = Literal["owner", "admin", "editor", "viewer"]


class LoginIn(Request):
    """Credentials; ``workspace`` picks one of the user's workspaces (default: the first)."""

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


class MemberOut(BaseModel):
    """A user and their role in this workspace."""

    id: int
    email: str
    name: str
    role: str
    created_at: str


class MemberIn(Request):
    """Add a user to this workspace (created when the e-mail is new: then a password is needed)."""

    email: str = Field(min_length=3, max_length=320)
    role: RoleName = "viewer"
    password: str | None = Field(default=None, min_length=8, max_length=1024)
    name: str = Field(default="", max_length=200)


class RoleIn(Request):
    """A new role."""

    role: RoleName


@router.post("/v1/auth/login", response_model=SessionOut)
def login(body: LoginIn, state: State, request: HttpRequest, response: Response) -> SessionOut:
    """Exchange e-mail and password for a session token (or a session cookie)."""
    hours = state.settings.api_session_hours
    token = state.auth.login(body.email, body.password, body.workspace, hours)
    seconds = int(hours * 3600)
    if not body.cookie:
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
    if caller.user_id is not None and token:
        state.auth.logout(token)
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


@router.get("/v1/users", response_model=list[MemberOut])
def list_members(caller: Caller, state: State) -> list[MemberOut]:
    """Members of the workspace (admins)."""
    caller.require(Level.ADMIN)
    return [MemberOut.model_validate(m, from_attributes=True) for m in state.auth.members(
        caller.workspace_id)]


def _grantable(caller_level: Level, role: str) -> None:
    if role == "owner" and caller_level < Level.OWNER:
        raise Forbidden("only an owner can make owners")


@router.post("/v1/users", response_model=MemberOut, status_code=201)
def add_member(body: MemberIn, caller: Caller, state: State) -> MemberOut:
    """Add a user (new or existing) to the workspace with a role (admins)."""
    caller.require(Level.ADMIN)
    _grantable(caller.level, body.role)
    user_id = state.auth.user_id(body.email)
    if user_id is None:
        if body.password is None:
            raise Forbidden("a new user needs a password") from None
        user_id = state.auth.create_user(body.email, body.password, body.name)
    state.auth.set_role(user_id, caller.workspace_id, body.role)
    return MemberOut.model_validate(
        state.auth.member(caller.workspace_id, user_id), from_attributes=True
    )


@router.get("/v1/users/{user_id}", response_model=MemberOut)
def get_member(user_id: Id, caller: Caller, state: State) -> MemberOut:
    """One member (admins, or the user themself)."""
    if caller.user_id != user_id:
        caller.require(Level.ADMIN)
    return MemberOut.model_validate(
        state.auth.member(caller.workspace_id, user_id), from_attributes=True
    )


@router.patch("/v1/users/{user_id}", response_model=MemberOut)
def set_role(user_id: Id, body: RoleIn, caller: Caller, state: State) -> MemberOut:
    """Change a member's role (admins; owners for anything touching owners)."""
    caller.require(Level.ADMIN)
    current = state.auth.member(caller.workspace_id, user_id)
    _grantable(caller.level, body.role)
    _grantable(caller.level, current.role)
    if current.role == "owner" and body.role != "owner":
        _keep_an_owner(state, caller.workspace_id)
    state.auth.set_role(user_id, caller.workspace_id, body.role)
    return MemberOut.model_validate(
        state.auth.member(caller.workspace_id, user_id), from_attributes=True
    )


@router.delete("/v1/users/{user_id}", response_model=Deleted)
def remove_member(user_id: Id, caller: Caller, state: State) -> Deleted:
    """Remove a member from the workspace (admins)."""
    caller.require(Level.ADMIN)
    current = state.auth.member(caller.workspace_id, user_id)
    _grantable(caller.level, current.role)
    if current.role == "owner":
        _keep_an_owner(state, caller.workspace_id)
    state.auth.remove_member(caller.workspace_id, user_id)
    return Deleted()


def _keep_an_owner(state: State, workspace_id: int) -> None:
    if state.auth.owners(workspace_id) <= 1:
        raise Conflict("a workspace keeps at least one owner")
