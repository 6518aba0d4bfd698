"""Stored agents of a workspace: an editable draft ``AgentConfig`` and published versions, one
of them live (publishing freezes the draft; rolling back makes an earlier version live)."""

from __future__ import annotations

import builtins
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from zhiku.agents.config import AgentConfig
from zhiku.agents.result import AgentResult
from zhiku.apps.slugs import claim
from zhiku.apps.types import slugify
from zhiku.core.errors import Conflict, NotFound
from zhiku.store.db import Connection, Database, Row


@dataclass(slots=True)
class StoredAgent:
    """An agent as stored: its draft and, once published, its live version."""

    id: int
    slug: str
    name: str
    draft: AgentConfig
    published_version: int | None = None
    published: AgentConfig | None = None
    created_at: str = ""
    updated_at: str = ""

    @property
    def live(self) -> AgentConfig:
        """What a run uses by default: the live version, or the draft before any."""
        return self.published or self.draft

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"id": self.id, "slug": self.slug, "name": self.name,
                "draft": self.draft.model_dump(mode="json"),
                "published_version": self.published_version,
                "published": self.published.model_dump(mode="json") if self.published else None,
                "created_at": self.created_at, "updated_at": self.updated_at}


class AgentStore:
    """Create, edit, publish, roll back, read and delete agents."""

    def __init__(self, db: Database, workspace_id: int) -> None:
        self._db = db
        self._ws = workspace_id

    def create(self, config: AgentConfig, slug: str | None = None) -> StoredAgent:
        """A new agent named ``config.name``, ``config`` as its draft."""
        slug = slug or slugify(config.name)
        try:
            with self._db.write() as conn:
                claim(self._db, conn, self._ws, slug)
                conn.execute(
                    "INSERT INTO agents (workspace_id, slug, name, draft) VALUES (?, ?, ?, ?)",
                    (self._ws, slug, config.name, config.model_dump_json()),
                )
        except self._db.IntegrityError as exc:
            raise Conflict(f"agent '{slug}' already exists") from exc
        return self.get(slug)

    def update(self, slug: str, config: AgentConfig) -> StoredAgent:
        """Replace the draft (published versions stay as they are)."""
        current = self.get(slug)
        with self._db.write() as conn:
            conn.execute(
                f"UPDATE agents SET draft = ?, name = ?, updated_at = {self._db.now} "
                "WHERE id = ?", (config.model_dump_json(), config.name, current.id),
            )
        return self.get(current.slug)

    def publish(self, slug: str, note: str | None = None, *, expect: AgentConfig | None = None,
                on_publish: Callable[[Connection, int, int], None] | None = None) -> int:
        """Freeze the draft as the next version and make it live; returns its number.
        ``expect``: the draft the caller checked (a draft changed since is a ``Conflict``);
        ``on_publish(conn, agent_id, version)`` runs in the same transaction."""
        with self._db.write() as conn:
            row = self._row(conn, slug, lock=True)
            if expect is not None and AgentConfig.model_validate_json(row["draft"]) != expect:
                raise Conflict(f"the draft of '{row['slug']}' changed while it was checked; "
                               "publish again")
            version = int(conn.execute(
                "SELECT COALESCE(MAX(version), 0) + 1 FROM agent_versions WHERE agent_id = ?",
                (row["id"],),
            ).fetchone()[0])
            conn.execute(
                "INSERT INTO agent_versions (agent_id, version, config, note) "
                "VALUES (?, ?, ?, ?)", (row["id"], version, row["draft"], note),
            )
            conn.execute(
                f"UPDATE agents SET published_version = ?, updated_at = {self._db.now} "
                "WHERE id = ?", (version, row["id"]),
            )
            if on_publish is not None:
                on_publish(conn, int(row["id"]), version)
        return version

    def rollback(self, slug: str, version: int) -> None:
        """Make the published ``version`` live again."""
        with self._db.write() as conn:
            row = self._row(conn, slug, lock=True)
            found = conn.execute(
                "SELECT 1 FROM agent_versions WHERE agent_id = ? AND version = ?",
                (row["id"], version),
            ).fetchone()
            if found is None:
                raise NotFound(f"agent '{row['slug']}' has no version {version}")
            conn.execute(
                f"UPDATE agents SET published_version = ?, updated_at = {self._db.now} "
                "WHERE id = ?", (version, row["id"]),
            )

    def version(self, slug: str, version: int) -> AgentConfig:
        """The frozen settings of one published version."""
        row = self._row(self._db.conn, slug)
        found = self._db.conn.execute(
            "SELECT config FROM agent_versions WHERE agent_id = ? AND version = ?",
            (row["id"], version),
        ).fetchone()
        if found is None:
            raise NotFound(f"agent '{row['slug']}' has no version {version}")
        return AgentConfig.model_validate_json(found["config"])

    def versions(self, slug: str) -> builtins.list[dict[str, Any]]:
        """The published versions, newest first: number, note, date, settings."""
        row = self._row(self._db.conn, slug)
        rows = self._db.conn.execute(
            "SELECT version, config, note, created_at FROM agent_versions WHERE agent_id = ? "
            "ORDER BY version DESC", (row["id"],),
        ).fetchall()
        return [{"version": r["version"], "note": r["note"], "created_at": r["created_at"],
                 "live": r["version"] == row["published_version"],
                 "config": AgentConfig.model_validate_json(r["config"]).model_dump(mode="json")}
                for r in rows]

    def get(self, slug: str) -> StoredAgent:
        """The agent with this slug (or name)."""
        return self._load(self._row(self._db.conn, slug))

    def list(self) -> builtins.list[StoredAgent]:
        """Every agent of the workspace, by slug."""
        rows = self._db.conn.execute(
            "SELECT * FROM agents WHERE workspace_id = ? ORDER BY slug", (self._ws,)
        ).fetchall()
        return [self._load(r) for r in rows]

    def delete(self, slug: str) -> None:
        """Remove an agent with its versions."""
        with self._db.write() as conn:
            conn.execute("DELETE FROM agents WHERE id = ?", (self._row(conn, slug)["id"],))

    # -- runs -----------------------------------------------------------------------------
    def record_run(self, slug: str, version: int | None, message: str,
                   result: AgentResult) -> int:
        """Store a finished run of the agent ``slug`` (``version`` None: its draft); its id."""
        with self._db.write() as conn:
            agent_id = self._row(conn, slug)["id"]
            row = conn.execute(
                "INSERT INTO agent_runs (workspace_id, agent_id, version, message, answer, "
                "stop_reason, steps, citations, tool_calls, error, latency_ms, input_tokens, "
                "output_tokens, cost) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "RETURNING id",
                (self._ws, agent_id, version, message, result.answer, result.stop_reason,
                 result.steps, _json([asdict(c) for c in result.citations]),
                 _json([asdict(t) for t in result.tool_calls]), result.error,
                 round(result.latency_ms, 3), result.input_tokens, result.output_tokens,
                 result.cost),
            ).fetchone()
        return int(row[0])

    def runs(self, slug: str, limit: int = 50, offset: int = 0
             ) -> builtins.list[dict[str, Any]]:
        """The agent's recorded runs, newest first (without their tool calls)."""
        agent_id = self._row(self._db.conn, slug)["id"]
        rows = self._db.conn.execute(
            f"SELECT {_RUN_COLUMNS} FROM agent_runs r WHERE r.workspace_id = ? "
            "AND r.agent_id = ? ORDER BY r.id DESC LIMIT ? OFFSET ?",
            (self._ws, agent_id, limit, offset),
        ).fetchall()
        return [_run_dict(r) for r in rows]

    def run(self, run_id: int) -> dict[str, Any]:
        """One recorded run of this workspace, with its tool calls (``agent``: its slug)."""
        row = self._db.conn.execute(
            f"SELECT {_RUN_COLUMNS}, r.tool_calls, a.slug AS agent FROM agent_runs r "
            "JOIN agents a ON a.id = r.agent_id WHERE r.id = ? AND r.workspace_id = ?",
            (run_id, self._ws),
        ).fetchone()
        if row is None:
            raise NotFound(f"agent run {run_id} does not exist")
        out = _run_dict(row)
        out["agent"] = row["agent"]
        out["tool_calls"] = json.loads(row["tool_calls"])
        return out

    def _row(self, conn: Connection, slug: str, *, lock: bool = False) -> Row:
        """The agent by slug or name; ``lock`` holds it to the end of the transaction
        (PostgreSQL), so concurrent publishes number versions in turn."""
        locking = " FOR UPDATE" if lock and self._db.dialect == "postgresql" else ""
        row = conn.execute(
            "SELECT * FROM agents WHERE workspace_id = ? AND (slug = ? OR name = ?) "
            "ORDER BY slug = ? DESC LIMIT 1" + locking, (self._ws, slug, slug, slug),
        ).fetchone()
        if row is None:
            raise NotFound(f"agent '{slug}' does not exist")
        return row

    def _load(self, row: Row) -> StoredAgent:
        published = None
        if row["published_version"] is not None:
            published = self.version(row["slug"], int(row["published_version"]))
        return StoredAgent(id=row["id"], slug=row["slug"], name=row["name"],
                           draft=AgentConfig.model_validate_json(row["draft"]),
                           published_version=row["published_version"], published=published,
                           created_at=row["created_at"], updated_at=row["updated_at"])


_RUN_COLUMNS = ("r.id, r.version, r.message, r.answer, r.stop_reason, r.steps, r.citations, "
                "r.error, r.latency_ms, r.input_tokens, r.output_tokens, r.cost, r.started_at")


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _run_dict(row: Row) -> dict[str, Any]:
    out = {k: row[k] for k in ("id", "version", "message", "answer", "stop_reason", "steps",
                               "error", "latency_ms", "input_tokens", "output_tokens", "cost",
                               "started_at")}
    out["citations"] = json.loads(row["citations"])
    return out
