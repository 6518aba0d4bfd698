"""The workspaces a caller reaches, and new ones: a person (never a key) creates one and
becomes its owner."""

from __future__ import annotations

from zhiku.accounts.principal import Principal
from zhiku.accounts.records import Workspace
from zhiku.accounts.store import AccountStore


def reachable(store: AccountStore, caller: Principal) -> list[Workspace]:
    """A user's workspaces with their role in each; a key's own workspace only."""
    if caller.user_id is None:
        return [Workspace(caller.workspace_id, store.workspace_name(caller.workspace_id))]
    return store.user_workspaces(caller.user_id)


def current(store: AccountStore, caller: Principal) -> Workspace:
    """The workspace the caller acts in, with their level there."""
    return Workspace(
        caller.workspace_id, store.workspace_name(caller.workspace_id), caller.level.name.lower()
    )


def create(store: AccountStore, caller: Principal, name: str) -> Workspace:
    """A new workspace owned by the signed-in user (they sign in to it to work there)."""
    user_id = caller.require_user()
    workspace_id = store.create_workspace(name)
    store.set_role(user_id, workspace_id, "owner")
    store.audit(workspace_id)("workspace.create", "workspace", workspace_id, name)
    return Workspace(workspace_id, name, "owner")
