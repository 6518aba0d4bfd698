"""Who may see, create and revoke API keys: admins, and only keys no wider than themselves; a
key an owner made is revoked by owners only (or by itself)."""

from __future__ import annotations

from zhiku.accounts.principal import Level, Principal
from zhiku.accounts.records import ApiKey
from zhiku.accounts.scope import check_key_grant, key_visible
from zhiku.accounts.store import AccountStore
from zhiku.core.errors import Forbidden, NotFound


def visible(caller: Principal, key: ApiKey) -> bool:
    """Whether the caller may see (and so revoke) ``key``: its own, or one no wider."""
    return key.id == caller.key_id or key_visible(caller, key.access, key.kbs, key.assistants)


def list_keys(store: AccountStore, caller: Principal) -> list[ApiKey]:
    """The workspace's keys the caller may see."""
    caller.require(Level.ADMIN)
    return [k for k in store.list_keys(caller.workspace_id) if visible(caller, k)]


def get_key(store: AccountStore, caller: Principal, key_id: int) -> ApiKey:
    """One key the caller may see; the others do not exist for them (``NotFound``)."""
    caller.require(Level.ADMIN)
    key = store.get_key(caller.workspace_id, key_id)
    if not visible(caller, key):
        raise NotFound(f"key {key_id} does not exist")
    return key


def create_key(
    store: AccountStore,
    caller: Principal,
    *,
    name: str,
    access: str,
    kbs: list[str] | None,
    assistants: list[str] | None,
) -> tuple[ApiKey, str]:
    """A new key no wider than the caller, and its secret (shown this once)."""
    scope = {"access": access, "knowledge_bases": kbs, "assistants": assistants}
    with store.audit(caller.workspace_id).attempt("key.create", "key", None, name,
                                                  detail=scope) as audit:
        check_key_grant(caller, access, kbs, assistants)
        key, secret = store.create_key(
            caller.workspace_id, name=name, access=access, kbs=kbs, assistants=assistants,
            created_by=caller.user_id,
        )
        audit.target_id, audit.detail["prefix"] = key.id, key.prefix
    return key, secret


def revoke_key(store: AccountStore, caller: Principal, key_id: int) -> ApiKey:
    """Revoke a key the caller may see; it stops working at once."""
    with store.audit(caller.workspace_id).attempt("key.revoke", "key", key_id) as audit:
        key = get_key(store, caller, key_id)
        audit.target_name, audit.detail["prefix"] = key.name, key.prefix
        by_owner = store.role_of(caller.workspace_id, key.created_by) == "owner"
        if by_owner and key.id != caller.key_id and caller.level < Level.OWNER:
            raise Forbidden("only an owner can revoke a key an owner created")
        revoked = store.revoke_key(caller.workspace_id, key_id)
    return revoked
