"""Plain records of groups and their members."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Group:
    """A named group of readers in one workspace."""

    id: int
    workspace_id: int
    name: str
    description: str = ""
    created_at: str = ""
    users: list[int] = field(default_factory=list)
    keys: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The JSON form the faces show."""
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "created_at": self.created_at,
            "users": list(self.users),
            "keys": list(self.keys),
        }
