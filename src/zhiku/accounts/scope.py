"""One rule for handing out access: a principal never creates, grants, lists or revokes anything
wider than itself.

"Wider" compares the level and each name scope (knowledge bases, assistants) separately: a scope
of None (every one) is wider than any list. Members are workspace-wide, so only principals with
no name scope may see or manage them.
"""

from __future__ import annotations

from collections.abc import Iterable

from zhiku.accounts.principal import ACCESS_LEVEL, ROLE_LEVEL, Level, Principal
from zhiku.core.errors import Forbidden


def _subset(wanted: Iterable[str] | None, allowed: frozenset[str] | None) -> bool:
    return allowed is None or (wanted is not None and set(wanted) <= allowed)


def within(
    caller: Principal, level: Level, kbs: Iterable[str] | None, assistants: Iterable[str] | None
) -> bool:
    """Whether access at ``level`` over ``kbs``/``assistants`` is no wider than the caller's."""
    return (
        level <= caller.level
        and _subset(kbs, caller.kbs)
        and _subset(assistants, caller.assistants)
    )


def check_key_grant(
    caller: Principal, access: str, kbs: list[str] | None, assistants: list[str] | None
) -> None:
    """A new key: admins only, and never wider than the caller."""
    caller.require(Level.ADMIN)
    if not within(caller, ACCESS_LEVEL[access], kbs, assistants):
        raise Forbidden("a key can have no more access or scope than the one who creates it")


def key_visible(
    caller: Principal, access: str, kbs: list[str] | None, assistants: list[str] | None
) -> bool:
    """Whether the caller may see (and so revoke) a key: it is no wider than the caller."""
    return within(caller, ACCESS_LEVEL[access], kbs, assistants)


def check_unrestricted(caller: Principal, level: Level = Level.ADMIN) -> None:
    """Workspace-wide things (members, invitations, server metrics): ``level`` and no name scope."""
    caller.require(level)
    if caller.kbs is not None or caller.assistants is not None:
        raise Forbidden("this needs a user session or a key not limited to some names")


def check_role(caller: Principal, role: str) -> None:
    """Grant, or act on a member holding, ``role``: only at or below the caller's own level."""
    if ROLE_LEVEL[role] > caller.level:
        raise Forbidden(f"only an owner can grant or change the {role} role"
                        if role == "owner" else f"your role cannot grant or change {role}")
