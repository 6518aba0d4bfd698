"""FastAPI dependencies: the app state, the caller, and their facade."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from zhiku.accounts.assistant_scope import confine
from zhiku.accounts.principal import Principal
from zhiku.api.auth import cookies
from zhiku.api.auth_first import early_principal
from zhiku.api.state import ApiState
from zhiku.audit.context import Actor, identify
from zhiku.core.errors import Unauthorized
from zhiku.permissions.context import identify_reader
from zhiku.permissions.resolution import reader_for
from zhiku.service import Zhiku

_bearer = HTTPBearer(auto_error=False, description="An API key (zk_…) or a session token (zks_…)")


def get_state(request: Request) -> ApiState:
    """The running app's state."""
    state: ApiState = request.app.state.api
    return state


State = Annotated[ApiState, Depends(get_state)]


def get_principal(
    request: Request,
    state: State,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """Authenticate the bearer token (or the console's session cookie, with its CSRF proof),
    apply the caller's rate limit, record key use, name the caller in the request's audit
    context; a key limited to assistants is confined to
    the knowledge bases they use now. (``credentials`` is read through ``cookies.credential``;
    the parameter puts the bearer scheme in the OpenAPI schema.)"""
    token, from_cookie = cookies.credential(request.headers, request.cookies)
    if not token:
        raise Unauthorized("send 'Authorization: Bearer <API key or session token>'")
    if from_cookie:
        cookies.check_csrf(request.method, request.headers, token)
    principal = early_principal(request.scope, token) or state.auth.authenticate(token)
    identify(Actor.key(principal.key_id) if principal.key_id is not None
             else Actor.user(principal.user_id or 0))
    state.limiter.hit(principal.rate_key)
    if principal.key_id is not None:
        state.touch_key(principal.key_id)
    if principal.assistants is not None:
        assistants = state.runtime.workspace(principal.workspace_id).list_assistants()
        principal = confine(principal, assistants)
    identify_reader(reader_for(state.runtime.db, principal))
    return principal


Caller = Annotated[Principal, Depends(get_principal)]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def get_zhiku(state: State, caller: Caller) -> Zhiku:
    """The facade of the caller's workspace."""
    return state.runtime.workspace(caller.workspace_id)


Service = Annotated[Zhiku, Depends(get_zhiku)]
