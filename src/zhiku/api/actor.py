"""Who is calling, in words a record can keep (a forced publish records it)."""

from __future__ import annotations

from zhiku.accounts.principal import Principal
from zhiku.api.state import ApiState


def actor_of(state: ApiState, caller: Principal) -> str:
    """``user:EMAIL`` for a session, ``key:NAME`` (or its prefix) for an API key."""
    if caller.user_id is not None:
        return f"user:{state.auth.user_email(caller.user_id)}"
    if caller.key_id is not None:
        key = state.auth.get_key(caller.workspace_id, caller.key_id)
        return f"key:{key.name or key.prefix}"
    return "unknown"
