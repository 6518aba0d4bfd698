"""Signing in, with a password or an invitation token: every password check goes through the
sign-in throttle."""

from __future__ import annotations

from zhiku.accounts.store import AccountStore
from zhiku.accounts.throttle import LoginGuard
from zhiku.core.errors import NotFound, Unauthorized


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
    with guard.attempt(email, address):
        return store.login(email, password, workspace, hours)


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
        raise Unauthorized("the invitation does not exist or has expired") from None
    with guard.attempt(invitation.email, address):
        return store.join(invitation, password, name, hours)
