"""Who may see and manage a workspace's members: admins not limited to some names, never
above their own role; a workspace keeps at least one owner."""

from __future__ import annotations

from zhiku.accounts.principal import Principal
from zhiku.accounts.records import Member
from zhiku.accounts.scope import check_role, check_unrestricted
from zhiku.accounts.store import AccountStore
from zhiku.core.errors import Conflict


def list_members(store: AccountStore, caller: Principal) -> list[Member]:
    """The caller's workspace's members."""
    check_unrestricted(caller)
    return store.members(caller.workspace_id)


def get_member(store: AccountStore, caller: Principal, user_id: int) -> Member:
    """One member: any a workspace-wide admin asks for, or the caller themself."""
    if caller.user_id != user_id:
        check_unrestricted(caller)
    return store.member(caller.workspace_id, user_id)


def change_role(store: AccountStore, caller: Principal, user_id: int, role: str) -> Member:
    """Give a member ``role``: the caller must be able to grant both the old and the new role,
    and the last owner stays an owner."""
    with store.audit(caller.workspace_id).attempt("member.role", "user", user_id,
                                                  detail={"role": role}) as audit:
        check_unrestricted(caller)
        current = store.member(caller.workspace_id, user_id)
        audit.target_name, audit.detail["previous"] = current.email, current.role
        check_role(caller, role)
        check_role(caller, current.role)
        if current.role == "owner" and role != "owner":
            keep_an_owner(store, caller.workspace_id)
        store.set_role(user_id, caller.workspace_id, role)
    return store.member(caller.workspace_id, user_id)


def remove_member(store: AccountStore, caller: Principal, user_id: int) -> None:
    """Take a member out (their sessions end, the keys they made are revoked): the caller must
    be able to grant their role, and the last owner cannot be removed."""
    with store.audit(caller.workspace_id).attempt("member.remove", "user", user_id) as audit:
        check_unrestricted(caller)
        current = store.member(caller.workspace_id, user_id)
        audit.target_name, audit.detail["role"] = current.email, current.role
        check_role(caller, current.role)
        if current.role == "owner":
            keep_an_owner(store, caller.workspace_id)
        store.remove_member(caller.workspace_id, user_id)


def keep_an_owner(store: AccountStore, workspace_id: int) -> None:
    """Raise ``Conflict`` when taking away one owner would leave the workspace without one."""
    if store.owners(workspace_id) <= 1:
        raise Conflict("a workspace keeps at least one owner")
