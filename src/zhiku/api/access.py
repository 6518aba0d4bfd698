"""Who may read, continue, rate and delete a stored conversation.

A conversation belongs to the user or API key that started it over the HTTP API. Its owner may
use it; so may an admin whose scope reaches its assistant (admins review the answer log). One
without an owner (started from the CLI or the Python API, or before owners were recorded) is
for admins only. A conversation whose assistant was deleted keeps its cited passages: a key
limited to some knowledge bases or assistants sees it only if the key started it and every
knowledge base it cites is still in the key's scope.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from zhiku.api.auth.principal import Level, Principal

OUT_OF_SCOPE = "this key is not allowed to use that conversation"
NOT_YOURS = "only the user or key that started a conversation, or an admin, may use it"


def owns(caller: Principal, conversation: Mapping[str, Any]) -> bool:
    """Whether the caller (a user session or an API key) started the conversation."""
    if caller.key_id is not None:
        return bool(conversation.get("key_id") == caller.key_id)
    return caller.user_id is not None and conversation.get("user_id") == caller.user_id


def refusal(
    caller: Principal,
    conversation: Mapping[str, Any],
    assistant_usable: bool,
    cited_kbs: Callable[[], set[str | None]],
) -> str | None:
    """Why the caller may not use the conversation, or None when it may.

    ``assistant_usable``: the caller's scope reaches the conversation's assistant;
    ``cited_kbs``: the knowledge bases its answers cite (None for a deleted document), asked
    only for a detached conversation.
    """
    mine = owns(caller, conversation)
    if conversation.get("assistant") is not None:
        if not assistant_usable:
            return OUT_OF_SCOPE
        return None if mine or caller.level >= Level.ADMIN else NOT_YOURS
    if caller.kbs is None and caller.assistants is None:
        return None if mine or caller.level >= Level.ADMIN else NOT_YOURS
    if not mine:
        return OUT_OF_SCOPE
    if all(kb is not None and caller.may_kb(kb) for kb in cited_kbs()):
        return None
    return OUT_OF_SCOPE
