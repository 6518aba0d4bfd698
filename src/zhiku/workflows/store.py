"""Workflows, their published versions and their runs, in the workspace's database."""

from __future__ import annotations

import builtins
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from zhiku.apps.slugs import claim
from zhiku.apps.types import slugify
from zhiku.core.errors import Conflict, InvalidInput, NotFound
from zhiku.store.db import Connection, Database, Row
from zhiku.workflows.results import RunResult
from zhiku.workflows.schema import Workflow


@dataclass(slots=True)
class StoredWorkflow:
    """A workflow: its editable draft and, once published, its live version."""

    id: int
    slug: str
    name: str
    draft: Workflow
    published_version: int | None
    published: Workflow | None
    created_at: str = ""
    updated_at: str = ""

    @property
    def live(self) -> Workflow:
        """What a run uses by default: the published version, or the draft before any."""
        return self.published or self.draft

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "id": self.id, "slug": self.slug, "name": self.name,
            "published_version": self.published_version,
            "draft": self.draft.model_dump(mode="json", exclude_defaults=True),
            "published": (self.published.model_dump(mode="json", exclude_defaults=True)
                          if self.published else None),
            "created_at": self.created_at, "updated_at": self.updated_at,
        }


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


class WorkflowStore:
    """Create, edit (the draft), publish and read workflows; record and read their runs."""

    def __init__(self, db: Database, workspace_id: int) -> None:
        self._db = db
        self._ws = workspace_id

    # -- definitions ----------------------------------------------------------------------
    def create(self, name: str, definition: Workflow, slug: str | None = None) -> StoredWorkflow:
        """A new workflow with ``definition`` as its draft."""
        if not name.strip():
            raise InvalidInput("a workflow needs a name")
        slug = slug or slugify(name)
        try:
            with self._db.write() as conn:
                claim(self._db, conn, self._ws, slug)
                conn.execute(
                    "INSERT INTO workflows (workspace_id, slug, name, draft) VALUES (?, ?, ?, ?)",
                    (self._ws, slug, name, definition.model_dump_json()),
                )
        except self._db.IntegrityError as exc:
            raise Conflict(f"workflow '{slug}' already exists") from exc
        return self.get(slug)

    def update(self, slug: str, definition: Workflow | None = None,
               name: str | None = None) -> StoredWorkflow:
        """Replace the draft and/or rename; published versions stay as they are."""
        current = self.get(slug)
        draft = (definition or current.draft).model_dump_json()
        with self._db.write() as conn:
            conn.execute(
                "UPDATE workflows SET draft = ?, name = COALESCE(?, name), "
                f"updated_at = {self._db.now} WHERE id = ?",
                (draft, name, current.id),
            )
        return self.get(current.slug)

    def publish(self, slug: str, note: str | None = None, *, expect: Workflow | None = None,
                on_publish: Callable[[Connection, int, int], None] | None = None) -> int:
        """Freeze the draft as the next version and make it live; returns its number.
        ``expect``: the draft the caller checked (a draft changed since is a ``Conflict``);
        ``on_publish(conn, workflow_id, version)`` runs in the same transaction."""
        with self._db.write() as conn:
            row = self._row(conn, slug, lock=True)
            if expect is not None and Workflow.model_validate_json(row["draft"]) != expect:
                raise Conflict(f"the draft of '{row['slug']}' changed while it was checked; "
                               "publish again")
            version = int(conn.execute(
                "SELECT COALESCE(MAX(version), 0) + 1 FROM workflow_versions "
                "WHERE workflow_id = ?", (row["id"],),
            ).fetchone()[0])
            conn.execute(
                "INSERT INTO workflow_versions (workflow_id, version, definition, note) "
                "VALUES (?, ?, ?, ?)", (row["id"], version, row["draft"], note),
            )
            conn.execute(
                f"UPDATE workflows SET published_version = ?, updated_at = {self._db.now} "
                "WHERE id = ?", (version, row["id"]),
            )
            if on_publish is not None:
                on_publish(conn, int(row["id"]), version)
        return version

    def rollback(self, slug: str, version: int) -> None:
        """Make the published ``version`` live again (the draft stays as it is)."""
        with self._db.write() as conn:
            row = self._row(conn, slug, lock=True)
            found = conn.execute(
                "SELECT 1 FROM workflow_versions WHERE workflow_id = ? AND version = ?",
                (row["id"], version),
            ).fetchone()
            if found is None:
                raise NotFound(f"workflow '{row['slug']}' has no version {version}")
            conn.execute(
                f"UPDATE workflows SET published_version = ?, updated_at = {self._db.now} "
                "WHERE id = ?", (version, row["id"]),
            )

    def delete(self, slug: str) -> None:
        """Remove a workflow with its versions and runs."""
        with self._db.write() as conn:
            conn.execute("DELETE FROM workflows WHERE id = ?", (self._row(conn, slug)["id"],))

    def get(self, slug: str) -> StoredWorkflow:
        """The workflow with this slug (or name)."""
        return self._load(self._row(self._db.conn, slug))

    def list(self) -> list[StoredWorkflow]:
        """Every workflow of the workspace, by slug."""
        rows = self._db.conn.execute(
            "SELECT * FROM workflows WHERE workspace_id = ? ORDER BY slug", (self._ws,)
        ).fetchall()
        return [self._load(r) for r in rows]

    def version(self, slug: str, version: int) -> Workflow:
        """The frozen definition of one published version."""
        row = self._db.conn.execute(
            "SELECT v.definition FROM workflow_versions v JOIN workflows w "
            "ON w.id = v.workflow_id WHERE w.workspace_id = ? AND w.slug = ? AND v.version = ?",
            (self._ws, slug, version),
        ).fetchone()
        if row is None:
            raise NotFound(f"workflow '{slug}' has no version {version}")
        return Workflow.model_validate_json(row["definition"])

    def versions(self, slug: str) -> builtins.list[dict[str, Any]]:
        """The published versions, newest first: number, note, date."""
        row = self._row(self._db.conn, slug)
        rows = self._db.conn.execute(
            "SELECT version, note, created_at FROM workflow_versions WHERE workflow_id = ? "
            "ORDER BY version DESC", (row["id"],),
        ).fetchall()
        return [dict(r) for r in rows]

    # -- runs -----------------------------------------------------------------------------
    def start_run(self, workflow: StoredWorkflow, version: int | None, definition: Workflow,
                  inputs: dict[str, Any], replay_of: int | None = None) -> int:
        """Record a run as running; returns its id."""
        with self._db.write() as conn:
            row = conn.execute(
                "INSERT INTO workflow_runs (workspace_id, workflow_id, version, definition, "
                "status, inputs, replay_of) VALUES (?, ?, ?, ?, 'running', ?, ?) RETURNING id",
                (self._ws, workflow.id, version, definition.model_dump_json(), _json(inputs),
                 replay_of),
            ).fetchone()
            return int(row[0])

    def finish_run(self, run_id: int, result: RunResult) -> None:
        """Record the outcome and every node's record, in one transaction."""
        with self._db.write() as conn:
            conn.execute(
                "UPDATE workflow_runs SET status = ?, outputs = ?, error = ?, latency_ms = ?, "
                "input_tokens = ?, output_tokens = ?, cost = ?, "
                f"finished_at = {self._db.now} WHERE id = ?",
                (result.status, _json(result.outputs), result.error, result.latency_ms,
                 result.input_tokens, result.output_tokens, result.cost, run_id),
            )
            conn.executemany(
                "INSERT INTO workflow_run_nodes (run_id, seq, node_id, type, status, inputs, "
                "outputs, latency_ms, input_tokens, output_tokens, cost, attempts, error) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(run_id, seq, n.node_id, n.type, n.status, _json(n.inputs), _json(n.outputs),
                  n.latency_ms, n.input_tokens, n.output_tokens, n.cost, n.attempts, n.error)
                 for seq, n in enumerate(result.nodes)],
            )

    def fail_run(self, run_id: int, error: str) -> None:
        """Record a run that ended outside the engine (an unexpected error)."""
        with self._db.write() as conn:
            conn.execute(
                f"UPDATE workflow_runs SET status = 'failed', error = ?, finished_at = "
                f"{self._db.now} WHERE id = ? AND status = 'running'", (error[:2000], run_id),
            )

    def runs(self, slug: str | None = None, limit: int = 50) -> builtins.list[dict[str, Any]]:
        """Runs, newest first, without their node records."""
        sql = ("SELECT r.id, w.slug AS workflow, r.version, r.status, r.inputs, r.outputs, "
               "r.error, r.latency_ms, r.input_tokens, r.output_tokens, r.cost, r.replay_of, "
               "r.started_at, r.finished_at FROM workflow_runs r JOIN workflows w "
               "ON w.id = r.workflow_id WHERE r.workspace_id = ?")
        args: builtins.list[Any] = [self._ws]
        if slug is not None:
            sql += " AND r.workflow_id = ?"
            args.append(self._row(self._db.conn, slug)["id"])
        rows = self._db.conn.execute(sql + " ORDER BY r.id DESC LIMIT ?",
                                     [*args, limit]).fetchall()
        return [_run_dict(r) for r in rows]

    def run(self, run_id: int) -> dict[str, Any]:
        """One run with its definition and node records (in finishing order)."""
        row = self._db.conn.execute(
            "SELECT r.*, w.slug AS workflow FROM workflow_runs r JOIN workflows w "
            "ON w.id = r.workflow_id WHERE r.id = ? AND r.workspace_id = ?",
            (run_id, self._ws),
        ).fetchone()
        if row is None:
            raise NotFound(f"workflow run {run_id} does not exist")
        out = _run_dict(row)
        out["definition"] = json.loads(row["definition"])
        nodes = self._db.conn.execute(
            "SELECT * FROM workflow_run_nodes WHERE run_id = ? ORDER BY seq", (run_id,)
        ).fetchall()
        out["nodes"] = [
            {**{k: n[k] for k in ("node_id", "type", "status", "latency_ms", "input_tokens",
                                  "output_tokens", "cost", "attempts", "error")},
             "inputs": json.loads(n["inputs"]), "outputs": json.loads(n["outputs"])}
            for n in nodes
        ]
        return out

    # -- rows -----------------------------------------------------------------------------
    def _row(self, conn: Connection, slug: str, *, lock: bool = False) -> Row:
        locking = " FOR UPDATE" if lock and self._db.dialect == "postgresql" else ""
        row = conn.execute(
            "SELECT * FROM workflows WHERE workspace_id = ? AND (slug = ? OR name = ?) "
            "ORDER BY slug = ? DESC LIMIT 1" + locking,
            (self._ws, slug, slug, slug),
        ).fetchone()
        if row is None:
            raise NotFound(f"workflow '{slug}' does not exist")
        return row

    def _load(self, row: Row) -> StoredWorkflow:
        published = None
        if row["published_version"] is not None:
            v = self._db.conn.execute(
                "SELECT definition FROM workflow_versions WHERE workflow_id = ? AND version = ?",
                (row["id"], row["published_version"]),
            ).fetchone()
            published = Workflow.model_validate_json(v["definition"])
        return StoredWorkflow(
            id=row["id"], slug=row["slug"], name=row["name"],
            draft=Workflow.model_validate_json(row["draft"]),
            published_version=row["published_version"], published=published,
            created_at=row["created_at"], updated_at=row["updated_at"],
        )


def _run_dict(row: Row) -> dict[str, Any]:
    out = {k: row[k] for k in ("id", "workflow", "version", "status", "error", "latency_ms",
                               "input_tokens", "output_tokens", "cost", "replay_of",
                               "started_at", "finished_at")}
    out["inputs"] = json.loads(row["inputs"])
    out["outputs"] = json.loads(row["outputs"])
    return out
