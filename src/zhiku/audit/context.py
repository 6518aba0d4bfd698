"""Who is acting, and from where: one ``AuditContext`` per request or command.

The faces set it, the core reads it when it records a change, so no facade method needs an
``actor`` argument. The HTTP API opens a context for each request in an ASGI middleware
(``api/audit_scope.py``) and fills in the caller once its credential is checked
(``deps.get_principal``); the object is shared, so the sync endpoint running in a worker
thread (which gets a copy of the request's context variables) sees the caller the dependency
set. The CLI opens one for the command (``kind="cli"``, the OS user). Without one, changes are
recorded as done by ``system`` (background jobs, the Python API).
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

ActorKind = str  # "user" | "key" | "cli" | "system" | "anonymous"


def os_user() -> str | None:
    """The name of the operating-system user running Zhiku, or None where the uid has none
    (a container)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did it: a user, an API key, a CLI user, or the system. ``display`` may be left
    empty for users and keys; the recorder then looks up the e-mail or the key's name."""

    kind: ActorKind
    id: str | None = None
    display: str = ""

    @classmethod
    def system(cls) -> Actor:
        """Zhiku itself (background jobs, the Python API without a context)."""
        return cls("system", None, "system")

    @classmethod
    def cli(cls) -> Actor:
        """The operating-system user running a ``zhiku`` command."""
        user = os_user() or "unknown"
        return cls("cli", user, f"{user} (cli)")

    @classmethod
    def user(cls, user_id: int, email: str = "") -> Actor:
        """A signed-in user."""
        return cls("user", str(user_id), email)

    @classmethod
    def key(cls, key_id: int, name: str = "") -> Actor:
        """An API key."""
        return cls("key", str(key_id), name)


@dataclass(slots=True)
class AuditContext:
    """The actor and client address of the current request or command (filled in as they
    become known)."""

    actor: Actor | None = None
    address: str | None = None


_current: ContextVar[AuditContext | None] = ContextVar("zhiku_audit", default=None)


def current() -> AuditContext:
    """The open context, or an empty one (recorded as ``system``)."""
    return _current.get() or AuditContext()


@contextmanager
def acting(actor: Actor | None, address: str | None = None) -> Iterator[AuditContext]:
    """Open a context for the code inside: what it records names ``actor`` and ``address``."""
    opened = AuditContext(actor, address)
    token = _current.set(opened)
    try:
        yield opened
    finally:
        _current.reset(token)


def identify(actor: Actor) -> None:
    """Name the actor of the open context (the request's caller, once authenticated)."""
    found = _current.get()
    if found is not None:
        found.actor = actor
