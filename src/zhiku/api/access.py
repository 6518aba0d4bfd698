"""Who may use an assistant, and who may read, continue, rate and delete a stored conversation.

An assistant is usable by a caller whose scope names it (or names no assistants) and reaches
every knowledge base it uses.

A conversation belongs to the user or API key that started it over the HTTP API. Its owner may
use it; so may an admin whose scope reaches its assistant (admins review the answer log). One
without an owner (started from the CLI or the Python API, or before owners were recorded) is
for admins only. A conversation whose assistant was deleted keeps its cited passages: a key
limited to some knowledge bases or assistants sees it only if the key started it and every
knowledge base it cites is still in the key's scope.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from zhiku.accounts.assistant_scope import assistant_kbs
from zhiku.accounts.principal import Level, Principal
from zhiku.core.errors import Forbidden, NotFound

if TYPE_CHECKING:
    from zhiku.apps.types import Assistant
    from zhiku.service import Zhiku

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


def by_slug(zk: Zhiku, slug: str) -> Assistant:
    """An assistant by slug (the API addresses slugs only; the facade also matches names)."""
    try:
        found = zk.get_assistant(slug)
    except NotFound:
        found = None
    if found is None or found.slug != slug:
        raise NotFound(f"assistant '{slug}' does not exist")
    return found


def may_use(caller: Principal, a: Assistant) -> bool:
    """Whether the caller's key reaches the assistant and all its knowledge bases (its draft's
    and its live version's)."""
    return caller.may_assistant(a.slug) and all(caller.may_kb(k) for k in assistant_kbs(a))


def usable_assistants(zk: Zhiku, caller: Principal) -> list[Assistant]:
    """The workspace's assistants the caller may use."""
    return [a for a in zk.list_assistants() if may_use(caller, a)]


def visible_assistant(
    zk: Zhiku, caller: Principal, slug: str, level: Level = Level.READ
) -> Assistant:
    """An assistant the caller may use at ``level`` (``Forbidden``/``NotFound`` otherwise)."""
    caller.check_assistant(slug, level)
    found = by_slug(zk, slug)
    caller.check_kbs(sorted(assistant_kbs(found)))
    return found


def conversation_out(row: dict[str, Any], slugs: dict[int, str]) -> dict[str, Any]:
    """A stored conversation with its assistant's slug in place of its id (None: detached)."""
    out = {k: v for k, v in row.items() if k != "assistant_id"}
    out["assistant"] = slugs.get(row["assistant_id"] or 0)
    return out


def slugs(zk: Zhiku) -> dict[int, str]:
    """Assistant ids to slugs."""
    return {a.id: a.slug for a in zk.list_assistants()}


def visible_conversation(zk: Zhiku, caller: Principal, conversation_id: int) -> dict[str, Any]:
    """A conversation (with its assistant's slug) the caller may read, continue, rate and
    delete (``Forbidden`` or ``NotFound`` otherwise)."""
    row = zk.conversation_info(conversation_id)
    found = None
    if row["assistant_id"]:
        try:
            found = zk.llm.assistants.get_by_id(row["assistant_id"])
        except NotFound:  # deleted: the conversation is detached
            found = None
    conv = conversation_out(row, {found.id: found.slug} if found else {})
    usable = found is not None and may_use(caller, found)
    reason = refusal(caller, conv, usable,
                     lambda: zk.llm.conversations.cited_kbs(conversation_id))
    if reason is not None:
        raise Forbidden(reason)
    return conv
