"""Signing in, with a password or an invitation token: every password check goes through the
sign-in throttle, and every attempt, successful or not, goes to the audit log with the client
address (a failure in each workspace of the account it named, so their admins see it)."""

from __future__ import annotations

from contextlib import suppress

from zhiku.accounts.errors import ChooseWorkspace
from zhiku.accounts.principal import Principal
from zhiku.accounts.store import AccountStore
from zhiku.accounts.throttle import LoginGuard
from zhiku.audit.context import Actor
from zhiku.core.errors import NotFound, Unauthorized, ZhikuError


def login(
    store: AccountStore,
    guard: LoginGuard,
    email: str,
    password: str,
    workspace: str | None,
    *,
    address: str,
    hours: float,
) -> str:
    """A session token for the user in ``workspace`` (see ``AccountStore.login``); refused
    while the account or the client ``address`` is locked after repeated failures."""
    try:
        with guard.attempt(email, address):
            token = store.login(email, password, workspace, hours)
    except ChooseWorkspace:
        raise  # the password was right: the client asks again with a workspace
    except ZhikuError as exc:
        record_failure(store, "auth.login", email, workspace, address, exc)
        raise
    record_success(store, "auth.login", token, email, address)
    return token


def signup(
    store: AccountStore,
    guard: LoginGuard,
    token: str,
    password: str,
    name: str,
    *,
    address: str,
    hours: float,
) -> str:
    """Use an invitation token once: create the account for its e-mail (or sign in to the
    existing one), join the workspace, and return a session token there. An unknown or
    expired token is ``Unauthorized``."""
    try:
        invitation = store.invitations.by_token(token)
    except NotFound:
        exc = Unauthorized("the invitation does not exist or has expired")
        record_failure(store, "auth.signup", "", None, address, exc)
        raise exc from None
    new_account = store.user_id(invitation.email) is None
    try:
        with guard.attempt(invitation.email, address):
            session = store.join(invitation, password, name, hours)
    except ZhikuError as exc:
        record_failure(store, "auth.signup", invitation.email, invitation.workspace, address, exc)
        raise
    record_success(store, "auth.signup", session, invitation.email, address,
                   detail={"new_account": new_account, "invitation": invitation.id,
                           "role": invitation.role})
    return session


def logout(store: AccountStore, caller: Principal, token: str) -> None:
    """End the caller's session (``token``); an API key has none to end."""
    if caller.user_id is None:
        return
    store.logout(token)
    store.audit(caller.workspace_id)("auth.logout", "user", caller.user_id)


def record_success(store: AccountStore, action: str, token: str, email: str, address: str,
                   detail: dict[str, object] | None = None) -> None:
    """Record a sign-in that opened the session ``token``."""
    principal = store.authenticate(token)
    user_id = principal.user_id or 0
    store.audit(principal.workspace_id)(
        action, "user", user_id, email, actor=Actor.user(user_id, email), address=address,
        detail=detail)


def record_failure(store: AccountStore, action: str, email: str, workspace: str | None,
                   address: str, exc: ZhikuError,
                   detail: dict[str, object] | None = None) -> None:
    """Record a refused sign-in in each workspace it concerns: the named one, else those of the
    account it named; with none of them, as a server-wide entry (no workspace)."""
    user_id = store.user_id(email) if email else None
    spaces = [] if user_id is None else [w.id for w in store.user_workspaces(user_id)]
    named = None
    if workspace:
        with suppress(ZhikuError):  # a name PostgreSQL cannot look up names no workspace
            named = store.workspace_id(workspace)
    targets: list[int | None] = [named] if named is not None else list(spaces) or [None]
    actor = Actor("anonymous", None, email or "anonymous")
    for workspace_id in targets:
        store.audit(workspace_id)(
            action, "user", user_id, email or None, actor=actor, result="failure",
            address=address,
            detail={"workspace": workspace, "error": exc.message, **(detail or {})})
