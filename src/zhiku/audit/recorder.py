"""What the core calls to record a change: ``audit(action, target_kind, target_id,
target_name, detail=...)``, one line after the change, with the actor and address taken from
the open ``AuditContext``.

Actions are ``<object>.<verb>`` (``kb.delete``, ``key.create``, ``auth.login``); see
docs/operations.md for the list. ``detail`` is a small JSON object; values under names that
look like secrets (password, token, api_key, secret, authorization…) are replaced, so a caller
cannot leak one by passing its request through.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from zhiku.audit import context
from zhiku.audit.context import Actor
from zhiku.audit.log import AuditLog, NewEntry, Result
from zhiku.core.errors import ZhikuError

REDACTED = "[redacted]"
_SECRET_NAME = re.compile(
    r"pass(word|phrase)?|secret|token|api_?key|authorization|credential|private|^key$|cookie",
    re.IGNORECASE,
)


def redact(detail: Any) -> Any:
    """``detail`` with every value under a secret-looking name replaced (nested too)."""
    if isinstance(detail, Mapping):
        return {str(k): REDACTED if _SECRET_NAME.search(str(k)) else redact(v)
                for k, v in detail.items()}
    if isinstance(detail, list | tuple):
        return [redact(v) for v in detail]
    return detail


def _text(value: object) -> str | None:
    return None if value is None else str(value)


class Audit:
    """Records the changes made in one workspace (``None``: none, e.g. an unknown e-mail's
    failed sign-in)."""

    def __init__(self, log: AuditLog, workspace_id: int | None) -> None:
        self.log = log
        self.workspace_id = workspace_id

    def __call__(
        self,
        action: str,
        target_kind: str | None = None,
        target_id: object = None,
        target_name: object = None,
        *,
        detail: Mapping[str, Any] | None = None,
        result: Result = "success",
        actor: Actor | None = None,
        address: str | None = None,
    ) -> int:
        """Append one entry; ``actor`` and ``address`` override the context's (sign-in names
        the account before any session exists). Returns the entry's id."""
        ctx = context.current()
        who = actor or ctx.actor or Actor.system()
        name = who.display or self.log.actor_name(who.kind, who.id) or who.kind
        return self.log.append(NewEntry(
            workspace_id=self.workspace_id,
            actor_kind=who.kind,
            actor_id=who.id,
            actor_name=name,
            action=action,
            target_kind=target_kind,
            target_id=_text(target_id),
            target_name=_text(target_name),
            address=address or ctx.address,
            result=result,
            detail=redact(dict(detail or {})),
        ))

    @contextmanager
    def attempt(
        self,
        action: str,
        target_kind: str | None = None,
        target_id: object = None,
        target_name: object = None,
        *,
        detail: Mapping[str, Any] | None = None,
        actor: Actor | None = None,
    ) -> Iterator[Attempt]:
        """Record the code inside as one action: a success when it returns, a failure with
        the error's message when it raises a Zhiku error (which then propagates). The code
        may fill in what it learns on the yielded ``Attempt`` (the new id, more detail)."""
        att = Attempt(target_id, target_name, dict(detail or {}), actor)
        try:
            yield att
        except ZhikuError as exc:
            self(action, target_kind, att.target_id, att.target_name, actor=att.actor,
                 result="failure", detail={**att.detail, "error": exc.message})
            raise
        self(action, target_kind, att.target_id, att.target_name, actor=att.actor,
             detail=att.detail)


@dataclass(slots=True)
class Attempt:
    """What an action inside ``Audit.attempt`` records about its target (settable)."""

    target_id: object
    target_name: object
    detail: dict[str, Any]
    actor: Actor | None
