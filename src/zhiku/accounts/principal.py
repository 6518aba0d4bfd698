"""The caller of a request: one workspace, a permission level, and optional name scopes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum
from typing import Literal

from zhiku.core.errors import Forbidden

Role = Literal["owner", "admin", "editor", "viewer"]
Access = Literal["read", "read_write", "admin"]


class Level(IntEnum):
    """What a caller may do; each level includes the ones below it."""

    READ = 1
    WRITE = 2
    ADMIN = 3
    OWNER = 4


ROLE_LEVEL: dict[str, Level] = {
    "viewer": Level.READ,
    "editor": Level.WRITE,
    "admin": Level.ADMIN,
    "owner": Level.OWNER,
}
ACCESS_LEVEL: dict[str, Level] = {
    "read": Level.READ,
    "read_write": Level.WRITE,
    "admin": Level.ADMIN,
}


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling. ``kbs``/``assistants`` of None mean every one in the workspace.

    ``assistant_kbs``: for a key limited to assistants, the knowledge bases those assistants use
    (resolved on each request, as assistants change); the key reaches no other knowledge base.
    """

    workspace_id: int
    level: Level
    key_id: int | None = None
    user_id: int | None = None
    kbs: frozenset[str] | None = None
    assistants: frozenset[str] | None = None
    assistant_kbs: frozenset[str] | None = None

    @property
    def rate_key(self) -> str:
        """What rate limits count against."""
        return f"key:{self.key_id}" if self.key_id is not None else f"user:{self.user_id}"

    def require(self, level: Level) -> None:
        """Raise ``Forbidden`` unless the caller has at least ``level``."""
        if self.level < level:
            raise Forbidden(f"this needs {level.name.lower()} access")

    def require_user(self) -> int:
        """The user id; API keys cannot do what only a person may (e.g. create workspaces)."""
        if self.user_id is None:
            raise Forbidden("this needs a user session, not an API key")
        return self.user_id

    def may_kb(self, name: str) -> bool:
        """Whether the key's scope includes knowledge base ``name``: its own knowledge bases
        and, for a key limited to assistants, those its assistants use."""
        return (self.kbs is None or name in self.kbs) and (
            self.assistant_kbs is None or name in self.assistant_kbs
        )

    def check_kb(self, name: str, level: Level = Level.READ) -> None:
        """Raise ``Forbidden`` unless ``name`` is in scope at ``level``."""
        self.require(level)
        if not self.may_kb(name):
            raise Forbidden("this key is not allowed to use that knowledge base")

    def check_kbs(self, names: Iterable[str]) -> None:
        """Every name must be in scope (read)."""
        for name in names:
            self.check_kb(name)

    def may_assistant(self, slug: str) -> bool:
        """Whether the key's scope includes assistant ``slug``."""
        return self.assistants is None or slug in self.assistants

    def check_assistant(self, slug: str, level: Level = Level.READ) -> None:
        """Raise ``Forbidden`` unless ``slug`` is in scope at ``level``."""
        self.require(level)
        if not self.may_assistant(slug):
            raise Forbidden("this key is not allowed to use that assistant")
