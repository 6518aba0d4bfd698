"""What the account store hands out: stored keys and members (never a secret), and the
timestamp format of the account tables."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from zhiku.store.db import Row


def iso(moment: datetime) -> str:
    """The timestamp format of the account tables (text, UTC, sortable)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(slots=True)
class ApiKey:
    """A stored key (never its secret)."""

    id: int
    workspace_id: int
    prefix: str
    name: str
    access: str
    kbs: list[str] | None
    assistants: list[str] | None
    created_at: str
    last_used_at: str | None
    revoked_at: str | None
    created_by: int | None = None


@dataclass(slots=True)
class Member:
    """A user with their role in one workspace."""

    id: int
    email: str
    name: str
    role: str
    created_at: str


@dataclass(frozen=True, slots=True)
class Workspace:
    """A workspace and, for a user, their role in it."""

    id: int
    name: str
    role: str | None = None


def key_record(row: Row) -> ApiKey:
    """An ``api_keys`` row as an ``ApiKey``."""
    return ApiKey(
        id=row["id"],
        workspace_id=row["workspace_id"],
        prefix=row["prefix"],
        name=row["name"],
        access=row["access"],
        kbs=None if row["kbs"] is None else json.loads(row["kbs"]),
        assistants=None if row["assistants"] is None else json.loads(row["assistants"]),
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
        revoked_at=row["revoked_at"],
        created_by=row["created_by"],
    )
