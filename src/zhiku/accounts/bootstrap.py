"""The first owner of a workspace and their admin API key: what ``zhiku admin init`` does."""

from __future__ import annotations

from dataclasses import dataclass

from zhiku.accounts.passwords import check_password
from zhiku.accounts.secrets import DEFAULT_COST, HashCost
from zhiku.accounts.store import AccountStore
from zhiku.core.errors import Conflict
from zhiku.store.db import Database


@dataclass(frozen=True, slots=True)
class Bootstrapped:
    """What ``bootstrap`` made; ``key`` is the admin key's secret, shown this once."""

    workspace_id: int
    user_id: int
    key_id: int
    key: str


def bootstrap(
    db: Database,
    email: str,
    password: str,
    workspace: str,
    *,
    key_name: str = "admin (zhiku admin init)",
    cost: HashCost = DEFAULT_COST,
) -> Bootstrapped:
    """Create the user ``email`` as an owner of ``workspace`` (created when missing) with an
    admin API key named ``key_name``. ``InvalidInput`` for a weak password or a bad name,
    ``Conflict`` (and nothing changed) when the user exists; ``cost``: argon2id's parameters
    for the password."""
    check_password(password, email)
    store = AccountStore(db, cost)
    if store.user_id(email) is not None:
        raise Conflict(f"user '{email}' already exists; nothing was changed")
    workspace_id = store.ensure_workspace(workspace)
    user_id = store.create_user(email, password, name=email.split("@")[0])
    store.set_role(user_id, workspace_id, "owner")
    key, secret = store.create_key(
        workspace_id, name=key_name, access="admin", kbs=None, assistants=None,
        created_by=user_id,
    )
    audit = store.audit(workspace_id)
    audit("user.create", "user", user_id, email, detail={"role": "owner"})
    audit("key.create", "key", key.id, key_name, detail={"access": "admin"})
    return Bootstrapped(workspace_id, user_id, key.id, secret)
