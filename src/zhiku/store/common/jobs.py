"""The record of background work, in SQL both backends run as is."""

from __future__ import annotations

import json
from typing import Any

from zhiku.store.common.base import SqlBackend
from zhiku.store.common.rows import job_record


class JobSql(SqlBackend):
    """``JobStore`` over ``self.db``."""

    def create_job(self, kind: str, kb_id: int | None, payload: dict[str, Any]) -> int:
        """Record a job as running; returns its id."""
        with self.db.write() as conn:
            row = conn.execute(
                "INSERT INTO jobs (kind, kb_id, payload, status, attempts) "
                "VALUES (?, ?, ?, 'running', 1) RETURNING id",
                (kind, kb_id, json.dumps(payload, ensure_ascii=False)),
            ).fetchone()
        return int(row[0])

    def finish_job(self, job_id: int, *, error: str | None = None) -> None:
        """Mark a job done (or failed with ``error``)."""
        with self.db.write() as conn:
            conn.execute(
                f"UPDATE jobs SET status = ?, error = ?, progress = 1, updated_at = {self.db.now} "
                "WHERE id = ?",
                ("failed" if error else "done", error, job_id),
            )

    def list_jobs(self, kb_id: int | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """Recent jobs, newest first."""
        sql = "SELECT * FROM jobs"
        params: list[Any] = []
        if kb_id is not None:
            sql += " WHERE kb_id = ?"
            params.append(kb_id)
        rows = self.db.conn.execute(sql + " ORDER BY id DESC LIMIT ?", [*params, limit])
        return [job_record(r) for r in rows]
