"""One namespace of slugs for a workspace's apps: an assistant, a workflow and an agent never
share a slug, so ``/v1/apps/{slug}`` and an OpenAI ``model`` name one app."""

from __future__ import annotations

from zhiku.core.errors import Conflict
from zhiku.store.db import Connection, Database

APP_TABLES: dict[str, str] = {"assistant": "assistants", "workflow": "workflows",
                              "agent": "agents"}
"""Each kind of app and the table that holds it."""


def kind_holding(conn: Connection, workspace_id: int, slug: str) -> str | None:
    """The kind of the app of ``workspace_id`` that has ``slug`` (None: it is free)."""
    for kind, table in APP_TABLES.items():
        found = conn.execute(
            f"SELECT 1 FROM {table} WHERE workspace_id = ? AND slug = ?", (workspace_id, slug)
        ).fetchone()
        if found is not None:
            return kind
    return None


def claim(db: Database, conn: Connection, workspace_id: int, slug: str) -> None:
    """Make sure ``slug`` is free for a new app in the transaction of ``conn`` (``Conflict``
    naming the app that has it). On PostgreSQL an advisory lock on the slug keeps two
    transactions creating apps of different kinds from both passing; SQLite's writer queue
    does the same."""
    db.advisory_lock(conn, f"app-slug:{workspace_id}:{slug}")
    kind = kind_holding(conn, workspace_id, slug)
    if kind is not None:
        raise Conflict(f"{kind} '{slug}' already exists (apps of every kind share slugs)")
