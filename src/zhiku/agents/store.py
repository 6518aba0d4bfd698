"""Stored agents of a workspace: a slug, a name and an ``AgentConfig``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zhiku.agents.config import AgentConfig
from zhiku.apps.types import slugify
from zhiku.core.errors import Conflict, NotFound
from zhiku.store.db import Database, Row


@dataclass(slots=True)
class StoredAgent:
    """An agent as stored."""

    id: int
    slug: str
    name: str
    config: AgentConfig
    created_at: str = ""
    updated_at: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"id": self.id, "slug": self.slug, "name": self.name,
                "config": self.config.model_dump(mode="json"),
                "created_at": self.created_at, "updated_at": self.updated_at}


class AgentStore:
    """Create, replace, read and delete agents."""

    def __init__(self, db: Database, workspace_id: int) -> None:
        self._db = db
        self._ws = workspace_id

    def create(self, config: AgentConfig, slug: str | None = None) -> StoredAgent:
        """A new agent named ``config.name``."""
        slug = slug or slugify(config.name)
        try:
            with self._db.write() as conn:
                conn.execute(
                    "INSERT INTO agents (workspace_id, slug, name, config) VALUES (?, ?, ?, ?)",
                    (self._ws, slug, config.name, config.model_dump_json()),
                )
        except self._db.IntegrityError as exc:
            raise Conflict(f"agent '{slug}' already exists") from exc
        return self.get(slug)

    def update(self, slug: str, config: AgentConfig) -> StoredAgent:
        """Replace an agent's settings (its slug stays)."""
        current = self.get(slug)
        with self._db.write() as conn:
            conn.execute(
                f"UPDATE agents SET config = ?, name = ?, updated_at = {self._db.now} "
                "WHERE id = ?", (config.model_dump_json(), config.name, current.id),
            )
        return self.get(current.slug)

    def get(self, slug: str) -> StoredAgent:
        """The agent with this slug (or name)."""
        row = self._db.conn.execute(
            "SELECT * FROM agents WHERE workspace_id = ? AND (slug = ? OR name = ?) "
            "ORDER BY slug = ? DESC LIMIT 1", (self._ws, slug, slug, slug),
        ).fetchone()
        if row is None:
            raise NotFound(f"agent '{slug}' does not exist")
        return _load(row)

    def list(self) -> list[StoredAgent]:
        """Every agent of the workspace, by slug."""
        rows = self._db.conn.execute(
            "SELECT * FROM agents WHERE workspace_id = ? ORDER BY slug", (self._ws,)
        ).fetchall()
        return [_load(r) for r in rows]

    def delete(self, slug: str) -> None:
        """Remove an agent."""
        agent = self.get(slug)
        with self._db.write() as conn:
            conn.execute("DELETE FROM agents WHERE id = ?", (agent.id,))


def _load(row: Row) -> StoredAgent:
    return StoredAgent(id=row["id"], slug=row["slug"], name=row["name"],
                       config=AgentConfig.model_validate_json(row["config"]),
                       created_at=row["created_at"], updated_at=row["updated_at"])
