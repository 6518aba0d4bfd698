"""Sources, what their runs saw of each item, and the runs themselves, for one workspace.

Every query joins the source's knowledge base to the workspace, so a source id of another
workspace is ``NotFound``. Secrets are stored encrypted with the installation's ``SecretBox``
and read back only by ``secrets()``; the public forms name them, never show them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from zhiku.core.errors import Conflict, NotFound
from zhiku.models.llm.secrets import SecretBox
from zhiku.store.db import Connection, Database, Row

ACTIVE = ("queued", "running")
MAX_RUN_ERRORS = 100
"""Item errors kept on a run (the items themselves keep theirs)."""

_SOURCE = ("SELECT s.*, k.name AS kb_name FROM sources s "
           "JOIN knowledge_bases k ON k.id = s.kb_id AND k.workspace_id = ?")


@dataclass(slots=True)
class Source:
    """A configured source of one knowledge base (its secrets' names only)."""

    id: int
    kb_id: int
    kb: str
    name: str
    kind: str
    config: dict[str, Any]
    secret_names: list[str]
    schedule: str | None
    next_run_at: str | None
    max_delete_share: float | None
    enabled: bool
    created_by: str | None
    created_at: str
    updated_at: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (no secret values: they are never read into it)."""
        return asdict(self)


@dataclass(slots=True)
class ItemState:
    """What the last run that reached an item recorded."""

    version: str | None
    document_id: int | None
    error: str | None
    attempts: int


@dataclass(slots=True)
class SyncRun:
    """One run of a source: its counts, status and errors."""

    id: int
    source_id: int
    job_id: int | None
    status: str
    origin: str
    requested_by: str | None
    allow_deletes: bool
    added: int
    updated: int
    unchanged: int
    removed: int
    failed: int
    errors: list[dict[str, str]] = field(default_factory=list)
    error: str | None = None
    created_at: str = ""
    started_at: str | None = None
    finished_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@dataclass(slots=True)
class Counts:
    """What a run did so far."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)

    def error(self, item: str, message: str) -> None:
        """Count a failed item, keeping the first ``MAX_RUN_ERRORS`` messages."""
        self.failed += 1
        if len(self.errors) < MAX_RUN_ERRORS:
            self.errors.append({"item": item, "error": message})


class SourceStore:
    """Sources, items and runs of the knowledge bases of one workspace."""

    def __init__(self, db: Database, workspace_id: int, box: SecretBox) -> None:
        self.db = db
        self._ws = workspace_id
        self._box = box

    # -- sources --------------------------------------------------------------------------
    def add(self, kb_id: int, name: str, kind: str, config: dict[str, Any],
            secrets: dict[str, str], *, schedule: str | None, next_run_at: str | None,
            max_delete_share: float | None, enabled: bool = True,
            created_by: str | None = None) -> Source:
        """Store a new source; ``Conflict`` when the knowledge base has one of that name."""
        token = self._box.encrypt(json.dumps(secrets)) if secrets else None
        try:
            with self.db.write() as conn:
                rows = conn.execute(
                    "INSERT INTO sources (kb_id, name, kind, config, secrets_encrypted, "
                    "schedule, next_run_at, max_delete_share, enabled, created_by) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    (kb_id, name, kind, _dumps(config), token, schedule, next_run_at,
                     max_delete_share, int(enabled), created_by),
                ).fetchall()
        except self.db.IntegrityError as exc:
            raise Conflict(f"this knowledge base already has a source called '{name}'") from exc
        return self.get(int(rows[0][0]))

    def update(self, source_id: int, **changes: Any) -> Source:
        """Change columns of a source (``config``, ``secrets``, ``schedule``, ``next_run_at``,
        ``max_delete_share``, ``enabled``); secrets replace the stored ones."""
        self.get(source_id)
        sets: list[str] = []
        values: list[Any] = []
        for column, value in changes.items():
            if column == "config":
                value = _dumps(value)
            elif column == "secrets":
                column = "secrets_encrypted"
                value = self._box.encrypt(json.dumps(value)) if value else None
            elif column == "enabled":
                value = int(value)
            sets.append(f"{column} = ?")
            values.append(value)
        if sets:
            with self.db.write() as conn:
                conn.execute(f"UPDATE sources SET {', '.join(sets)}, updated_at = {self.db.now} "
                             "WHERE id = ?", (*values, source_id))
        return self.get(source_id)

    def get(self, source_id: int) -> Source:
        """A source of this workspace, or ``NotFound``."""
        row = self.db.conn.execute(f"{_SOURCE} WHERE s.id = ?", (self._ws, source_id)).fetchone()
        if row is None:
            raise NotFound(f"source {source_id} does not exist")
        return self._source(row)

    def by_name(self, kb_id: int, name: str) -> Source:
        """The source ``name`` of a knowledge base, or ``NotFound``."""
        row = self.db.conn.execute(f"{_SOURCE} WHERE s.kb_id = ? AND s.name = ?",
                                   (self._ws, kb_id, name)).fetchone()
        if row is None:
            raise NotFound(f"source '{name}' does not exist")
        return self._source(row)

    def sources(self, kb_id: int | None = None) -> list[Source]:
        """The sources of a knowledge base, or of the whole workspace, by knowledge base and
        name."""
        sql, args = _SOURCE, [self._ws]
        if kb_id is not None:
            sql += " WHERE s.kb_id = ?"
            args.append(kb_id)
        rows = self.db.conn.execute(sql + " ORDER BY k.name, s.name", args).fetchall()
        return [self._source(r) for r in rows]

    def secrets(self, source_id: int) -> dict[str, str]:
        """The source's secrets, decrypted (for opening its connector only)."""
        self.get(source_id)
        row = self.db.conn.execute("SELECT secrets_encrypted FROM sources WHERE id = ?",
                                   (source_id,)).fetchone()
        token = row["secrets_encrypted"] if row is not None else None
        return dict(json.loads(self._box.decrypt(bytes(token)))) if token is not None else {}

    def delete(self, source_id: int) -> None:
        """Remove a source with its items and runs (its documents stay in the knowledge
        base)."""
        self.get(source_id)
        with self.db.write() as conn:
            conn.execute("DELETE FROM sources WHERE id = ?", (source_id,))

    def _source(self, row: Row) -> Source:
        token = row["secrets_encrypted"]
        names = sorted(json.loads(self._box.decrypt(bytes(token)))) if token is not None else []
        share = row["max_delete_share"]
        return Source(
            id=int(row["id"]), kb_id=int(row["kb_id"]), kb=row["kb_name"], name=row["name"],
            kind=row["kind"], config=json.loads(row["config"]), secret_names=names,
            schedule=row["schedule"], next_run_at=row["next_run_at"],
            max_delete_share=None if share is None else float(share),
            enabled=bool(row["enabled"]), created_by=row["created_by"],
            created_at=str(row["created_at"]), updated_at=str(row["updated_at"]),
        )

    # -- items ----------------------------------------------------------------------------
    def items(self, source_id: int) -> dict[str, ItemState]:
        """Every item the source's runs have recorded, by item id."""
        rows = self.db.conn.execute(
            "SELECT item_id, version, document_id, error, attempts FROM source_items "
            "WHERE source_id = ?", (source_id,))
        return {
            str(r["item_id"]): ItemState(r["version"], r["document_id"], r["error"],
                                         int(r["attempts"]))
            for r in rows
        }

    def item_done(self, source_id: int, item_id: str, version: str,
                  document_id: int | None) -> None:
        """Record an item ingested (or found unchanged by content) at ``version``."""
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO source_items (source_id, item_id, version, document_id, error, "
                "attempts) VALUES (?, ?, ?, ?, NULL, 0) ON CONFLICT (source_id, item_id) DO "
                "UPDATE SET version = excluded.version, document_id = excluded.document_id, "
                f"error = NULL, attempts = 0, synced_at = {self.db.now}",
                (source_id, item_id, version, document_id))

    def item_failed(self, source_id: int, item_id: str, error: str,
                    document_id: int | None = None) -> None:
        """Record an item's error; its version and document stay, so the next run tries it
        again and what was indexed before is kept (``document_id``: the document the failure
        left, when the item had none)."""
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO source_items (source_id, item_id, document_id, error, attempts) "
                "VALUES (?, ?, ?, ?, 1) ON CONFLICT (source_id, item_id) DO UPDATE SET "
                "error = excluded.error, attempts = source_items.attempts + 1, document_id = "
                "COALESCE(source_items.document_id, excluded.document_id), "
                f"synced_at = {self.db.now}",
                (source_id, item_id, document_id, error))

    def forget_item(self, source_id: int, item_id: str) -> None:
        """Drop an item that is gone from the source."""
        with self.db.write() as conn:
            conn.execute("DELETE FROM source_items WHERE source_id = ? AND item_id = ?",
                         (source_id, item_id))

    def owner_of(self, document_id: int) -> int | None:
        """The source whose item became ``document_id`` (None: no source's)."""
        row = self.db.conn.execute(
            "SELECT source_id FROM source_items WHERE document_id = ? LIMIT 1", (document_id,)
        ).fetchone()
        return None if row is None else int(row[0])

    # -- runs -----------------------------------------------------------------------------
    def run(self, run_id: int) -> SyncRun:
        """A run of a source of this workspace, or ``NotFound``."""
        row = self.db.conn.execute(
            "SELECT r.* FROM sync_runs r JOIN sources s ON s.id = r.source_id "
            "JOIN knowledge_bases k ON k.id = s.kb_id AND k.workspace_id = ? WHERE r.id = ?",
            (self._ws, run_id)).fetchone()
        if row is None:
            raise NotFound(f"sync run {run_id} does not exist")
        return _run(row)

    def runs(self, source_id: int, limit: int = 20) -> list[SyncRun]:
        """The source's runs, newest first."""
        self.get(source_id)
        rows = self.db.conn.execute(
            "SELECT * FROM sync_runs WHERE source_id = ? ORDER BY id DESC LIMIT ?",
            (source_id, limit))
        return [_run(r) for r in rows]

    def mark_running(self, run_id: int) -> None:
        """The run's job started (again, after a crash: its counts carry on)."""
        with self.db.write() as conn:
            conn.execute(f"UPDATE sync_runs SET status = 'running', started_at = COALESCE("
                         f"started_at, {self.db.now}) WHERE id = ?", (run_id,))

    def save(self, run_id: int, counts: Counts, status: str | None = None,
             error: str | None = None) -> None:
        """Store the run's counts; with ``status``, the run has ended."""
        ended = f", status = ?, error = ?, finished_at = {self.db.now}" if status else ""
        extra: tuple[Any, ...] = (status, error) if status else ()
        with self.db.write() as conn:
            conn.execute(
                "UPDATE sync_runs SET added = ?, updated = ?, unchanged = ?, removed = ?, "
                f"failed = ?, errors = ?{ended} WHERE id = ?",
                (counts.added, counts.updated, counts.unchanged, counts.removed, counts.failed,
                 _dumps(counts.errors), *extra, run_id))

    def fail_run(self, run_id: int, error: str) -> None:
        """End a run that could not finish (its job died or was cancelled)."""
        with self.db.write() as conn:
            conn.execute(f"UPDATE sync_runs SET status = 'failed', error = ?, finished_at = "
                         f"{self.db.now} WHERE id = ? AND status IN ('queued', 'running')",
                         (error, run_id))


def start_run(conn: Connection, source_id: int, origin: str, requested_by: str | None,
              allow_deletes: bool) -> int | None:
    """Insert a queued run in the caller's transaction; None when the source already has one
    queued or running (the partial unique index decides, on either backend)."""
    rows = conn.execute(
        "INSERT INTO sync_runs (source_id, origin, requested_by, allow_deletes) "
        "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
        (source_id, origin, requested_by, int(allow_deletes)),
    ).fetchall()
    return int(rows[0][0]) if rows else None


def set_job(conn: Connection, run_id: int, job_id: int) -> None:
    """Name the job that executes a run."""
    conn.execute("UPDATE sync_runs SET job_id = ? WHERE id = ?", (job_id, run_id))


def release_stale(db: Database, source_id: int) -> None:
    """Fail the source's queued or running runs whose job has ended or is gone (a cancelled
    job, a database copied without its queue), so they block no new run."""
    with db.write() as conn:
        conn.execute(
            "UPDATE sync_runs SET status = 'failed', error = 'its job ended before the run "
            f"did', finished_at = {db.now} WHERE source_id = ? AND status IN "
            "('queued', 'running') AND NOT EXISTS (SELECT 1 FROM jobs j WHERE "
            "j.id = sync_runs.job_id AND j.status IN ('queued', 'running'))",
            (source_id,))


def _run(row: Row) -> SyncRun:
    return SyncRun(
        id=int(row["id"]), source_id=int(row["source_id"]), job_id=row["job_id"],
        status=row["status"], origin=row["origin"], requested_by=row["requested_by"],
        allow_deletes=bool(row["allow_deletes"]), added=int(row["added"]),
        updated=int(row["updated"]), unchanged=int(row["unchanged"]),
        removed=int(row["removed"]), failed=int(row["failed"]),
        errors=json.loads(row["errors"]), error=row["error"],
        created_at=str(row["created_at"]), started_at=row["started_at"],
        finished_at=row["finished_at"],
    )


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
