"""The job queue: rows of the ``jobs`` table, claimed under a lease by any number of workers.

A job goes ``queued → running → done``. ``failed`` means the job ran and its input is bad, so
running it again cannot help; an internal error, or a worker that died (its lease ran out
without a heartbeat), puts the job back in the queue after a back-off, and after
``max_attempts`` it is ``dead``. Failed and dead jobs can be queued again by hand (``retry``);
queued and running ones can be cancelled (``failed``, error ``cancelled``).

Every change a worker makes is fenced by its claim — ``locked_by`` and ``attempts`` — so a
worker that lost its lease can no longer touch the row that another worker now holds. On
PostgreSQL a claim is one ``UPDATE … WHERE id = (SELECT … FOR UPDATE SKIP LOCKED)``: workers
never wait on each other's rows; on SQLite the same statement runs under the single writer lock.

Claims are fair between workspaces (the workspace a job belongs to): the next job is
the oldest due one of the workspace with the fewest running jobs, and a workspace already
running ``max_running_per_workspace`` jobs gets no more until one ends, so a tenant that floods
the queue cannot occupy every worker. Claims count running jobs, so on PostgreSQL they take
turns under a transaction-scoped advisory lock (a claim is one short statement).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from zhiku.jobs.notify import notify
from zhiku.store.db import Connection, Database

if TYPE_CHECKING:
    from zhiku.core.settings import Settings

STATUSES = ("queued", "running", "done", "failed", "dead")
FINAL = frozenset({"done", "failed", "dead"})
MAX_BACKOFF = 3600.0
LOST = "the worker running it stopped (its lease ran out)"
CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class QueueOptions:
    """Lease, retry and back-off policy."""

    lease_seconds: float = 60.0
    max_attempts: int = 3
    retry_seconds: float = 10.0
    max_running_per_workspace: int = 0  # 0: no cap

    @classmethod
    def of(cls, settings: Settings, threads: int | None = None) -> QueueOptions:
        """The policy ``settings`` configure. Without a configured cap, a process running
        ``threads`` job threads of its own keeps one of them for other workspaces; a worker of
        a cluster (``threads`` None) has no cap, which would count over the whole cluster."""
        cap = settings.jobs_max_running_per_workspace
        if cap is None:
            cap = max(threads - 1, 1) if threads and threads > 1 else 0
        return cls(settings.jobs_lease_seconds, settings.jobs_max_attempts,
                   settings.jobs_retry_seconds, cap)

    def backoff(self, attempts: int) -> float:
        """Seconds before the next try after ``attempts`` tries: doubling, capped at an hour."""
        return float(min(self.retry_seconds * 2 ** max(attempts - 1, 0), MAX_BACKOFF))


@dataclass(slots=True)
class Job:
    """One row of the queue. ``locked_by`` and ``attempts`` identify the current claim."""

    id: int
    kind: str
    kb_id: int | None
    status: str
    progress: float
    error: str | None
    created_at: str
    updated_at: str
    payload: dict[str, Any] = field(default_factory=dict)
    attempts: int = 0
    max_attempts: int = 0
    run_after: str | None = None
    locked_by: str | None = None
    locked_until: str | None = None


class JobQueue:
    """Every row of the ``jobs`` table; a job's ``kind`` names the handler that runs it."""

    def __init__(self, db: Database, options: QueueOptions | None = None) -> None:
        self.db = db
        self.options = options or QueueOptions()
        self._later = db.later
        self._claim = _claim_sql(db)

    # -- submitting -----------------------------------------------------------------------
    def enqueue(
        self, conn: Connection, kind: str, kb_id: int | None, payload: dict[str, Any],
        workspace_id: int | None = None,
    ) -> int:
        """Queue a job inside the caller's write transaction (so it commits with their rows).
        The job belongs to ``workspace_id``, by default the workspace of its knowledge base."""
        rows = conn.execute(
            "INSERT INTO jobs (kind, kb_id, workspace_id, payload, status, max_attempts) "
            "VALUES (?, ?, COALESCE(?, (SELECT workspace_id FROM knowledge_bases WHERE id = ?)), "
            "?, 'queued', ?) RETURNING id",
            (kind, kb_id, workspace_id, kb_id, _dumps(payload), self.options.max_attempts),
        ).fetchall()
        notify(self.db, conn)
        return int(rows[0][0])

    def submit(self, kind: str, kb_id: int | None, payload: dict[str, Any],
               workspace_id: int | None = None) -> int:
        """Queue a job in a transaction of its own."""
        with self.db.write() as conn:
            return self.enqueue(conn, kind, kb_id, payload, workspace_id)

    # -- working --------------------------------------------------------------------------
    def claim(self, worker: str) -> Job | None:
        """Take the next due job, fairly between workspaces (see the module docstring), under a
        fresh lease; None when no job is due or every workspace with one is at its cap."""
        cap = self.options.max_running_per_workspace
        with self.db.write() as conn:
            self.db.advisory_lock(conn, "zhiku:jobs")
            rows = conn.execute(
                self._claim, (cap, cap, worker, self.options.lease_seconds)
            ).fetchall()
        return job_of(rows[0]) if rows else None

    def claim_job(self, job_id: int, worker: str) -> Job | None:
        """Take one queued job (due or not) under a fresh lease; None when it is not queued
        (another worker took it, or it ended)."""
        now = self.db.now
        with self.db.write() as conn:
            rows = conn.execute(
                "UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_by = ?, "
                f"locked_until = {self._later}, heartbeat_at = {now}, updated_at = {now} "
                "WHERE id = ? AND status = 'queued' RETURNING *",
                (worker, self.options.lease_seconds, job_id),
            ).fetchall()
        return job_of(rows[0]) if rows else None

    def heartbeat(self, job: Job) -> bool:
        """Extend the job's lease; False when the claim is no longer this worker's."""
        now = self.db.now
        return self._fenced(
            job, f"locked_until = {self._later}, heartbeat_at = {now}",
            (self.options.lease_seconds,),
        )

    def save_progress(self, job: Job, payload: dict[str, Any], progress: float) -> bool:
        """Persist a running job's state; False when the claim is lost."""
        return self._fenced(job, "payload = ?, progress = ?", (_dumps(payload), progress))

    def complete(self, job: Job, payload: dict[str, Any], error: str | None = None) -> bool:
        """Finish the claim: ``done``, or ``failed`` with ``error`` (not retried)."""
        return self._fenced(
            job, "status = ?, error = ?, progress = 1, payload = ?, locked_until = NULL",
            ("failed" if error else "done", error, _dumps(payload)),
        )

    def fail(self, job: Job, payload: dict[str, Any], error: str) -> str | None:
        """A try went wrong: queue the job again after a back-off, or mark it ``dead`` after
        its last attempt. Returns the new status (None when the claim was lost)."""
        with self.db.write() as conn:
            rows = conn.execute(
                "UPDATE jobs SET status = CASE WHEN attempts >= max_attempts THEN 'dead' "
                f"ELSE 'queued' END, run_after = {self._later}, error = ?, payload = ?, "
                f"locked_until = NULL, updated_at = {self.db.now} "
                "WHERE id = ? AND locked_by = ? AND attempts = ? AND status = 'running' "
                "RETURNING status",
                (self.options.backoff(job.attempts), error, _dumps(payload), job.id,
                 job.locked_by, job.attempts),
            ).fetchall()
        return str(rows[0][0]) if rows else None

    def release(self, job: Job, payload: dict[str, Any]) -> bool:
        """Hand an unfinished job back (the worker is stopping); the try does not count."""
        with self.db.write() as conn:
            released = self._fenced(
                job, "status = 'queued', attempts = attempts - 1, payload = ?, "
                f"run_after = {self.db.now}, locked_until = NULL", (_dumps(payload),),
            )
            if released:
                notify(self.db, conn)
        return released

    def _fenced(self, job: Job, assignments: str, values: tuple[Any, ...]) -> bool:
        with self.db.write() as conn:
            cur = conn.execute(
                f"UPDATE jobs SET {assignments}, updated_at = {self.db.now} "
                "WHERE id = ? AND locked_by = ? AND attempts = ? AND status = 'running'",
                (*values, job.id, job.locked_by, job.attempts),
            )
        return cur.rowcount == 1

    def reap(self) -> list[tuple[int, str]]:
        """Requeue (or, after the last attempt, bury) running jobs whose lease ran out.
        Returns ``(job id, new status)`` pairs."""
        now = self.db.now
        with self.db.write() as conn:
            rows = conn.execute(
                "UPDATE jobs SET status = CASE WHEN attempts >= max_attempts THEN 'dead' "
                f"ELSE 'queued' END, error = ?, locked_until = NULL, run_after = {now}, "
                f"updated_at = {now} WHERE id IN (SELECT id FROM jobs WHERE status = 'running' "
                f"AND (locked_until IS NULL OR locked_until < {now})"
                f"{self.db.skip_locked()}) RETURNING id, status",
                (LOST,),
            ).fetchall()
        return [(int(r[0]), str(r[1])) for r in rows]

    def requeue_orphans(self) -> list[tuple[int, str]]:
        """Reap now the running jobs held by processes of this host that no longer exist (a
        restart need not wait for their leases), and every expired lease."""
        host = os.uname().nodename
        rows = self.db.conn.execute(
            "SELECT id, locked_by FROM jobs WHERE status = 'running'"
        ).fetchall()
        orphans = [int(r[0]) for r in rows if not _alive(r[1], host)]
        if orphans:
            with self.db.write() as conn:
                conn.executemany(
                    "UPDATE jobs SET locked_until = NULL WHERE id = ? AND status = 'running'",
                    [(job_id,) for job_id in orphans],
                )
        return self.reap()

    # -- reading and administering --------------------------------------------------------
    def get(self, job_id: int) -> Job | None:
        """One job."""
        row = self.db.conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else job_of(row)

    def list(
        self,
        *,
        kb_id: int | None = None,
        workspace_id: int | None = None,
        status: str | None = None,
        limit: int = 50,
    ) -> list[Job]:
        """Jobs newest first, optionally of one knowledge base, workspace or status."""
        where: list[str] = []
        params: list[Any] = []
        for clause, value in (
            ("kb_id = ?", kb_id),
            ("workspace_id = ?", workspace_id),
            ("status = ?", status),
        ):
            if value is not None:
                where.append(clause)
                params.append(value)
        rows = self.db.conn.execute(
            f"SELECT * FROM jobs{' WHERE ' if where else ''}{' AND '.join(where)} "
            "ORDER BY id DESC LIMIT ?",
            (*params, limit),
        )
        return [job_of(r) for r in rows]

    def counts(self) -> dict[str, int]:
        """How many jobs are in each status."""
        out = dict.fromkeys(STATUSES, 0)
        rows = self.db.conn.execute(
            "SELECT status, count(*) FROM jobs GROUP BY status"
        )
        out.update({str(r[0]): int(r[1]) for r in rows})
        return out

    def retry(self, job_id: int) -> Job | None:
        """Queue a failed or dead job again with a fresh set of attempts: the job as queued
        (a worker may claim it at once), or None when it was not failed or dead."""
        now = self.db.now
        with self.db.write() as conn:
            rows = conn.execute(
                f"UPDATE jobs SET status = 'queued', attempts = 0, error = NULL, progress = 0, "
                f"run_after = {now}, locked_until = NULL, updated_at = {now} "
                "WHERE id = ? AND status IN ('failed', 'dead') RETURNING *",
                (job_id,),
            ).fetchall()
            if rows:
                notify(self.db, conn)
        return job_of(rows[0]) if rows else None


    def cancel(self, job_id: int) -> Job | None:
        """Stop a queued or running job for good: it ends ``failed`` with ``CANCELLED``. A
        worker running it loses its claim and stops at its next safe point. Returns the job
        as cancelled, or None when it had already ended."""
        now = self.db.now
        with self.db.write() as conn:
            rows = conn.execute(
                f"UPDATE jobs SET status = 'failed', error = ?, locked_until = NULL, "
                f"updated_at = {now} WHERE id = ? AND status IN ('queued', 'running') "
                "RETURNING *",
                (CANCELLED, job_id),
            ).fetchall()
        return job_of(rows[0]) if rows else None


def job_of(row: Any) -> Job:
    """A ``jobs`` row as a ``Job``."""
    payload = row["payload"]
    return Job(
        id=int(row["id"]),
        kind=row["kind"],
        kb_id=row["kb_id"],
        status=row["status"],
        progress=float(row["progress"]),
        error=row["error"],
        created_at=str(row["created_at"]),
        updated_at=str(row["updated_at"]),
        payload=dict(payload) if isinstance(payload, dict) else json.loads(payload),
        attempts=int(row["attempts"]),
        max_attempts=int(row["max_attempts"]),
        run_after=row["run_after"],
        locked_by=row["locked_by"],
        locked_until=row["locked_until"],
    )


def _claim_sql(db: Database) -> str:
    """The claim: running jobs counted per workspace (jobs without a workspace count as
    workspace 0), then the due job of the least busy workspace under the cap, oldest first.
    Parameters: the cap twice (0: none), worker, lease seconds."""
    now, later, lock = db.now, db.later, db.skip_locked(of="q")
    return (
        "WITH busy AS (SELECT COALESCE(r.workspace_id, 0) AS ws, count(*) AS n "
        "FROM jobs r WHERE r.status = 'running' GROUP BY COALESCE(r.workspace_id, 0)), "
        "pick AS (SELECT q.id FROM jobs q "
        "LEFT JOIN busy b ON b.ws = COALESCE(q.workspace_id, 0) "
        f"WHERE q.status = 'queued' AND q.run_after <= {now} "
        "AND (? = 0 OR COALESCE(b.n, 0) < ?) "
        f"ORDER BY COALESCE(b.n, 0), q.run_after, q.id LIMIT 1{lock}) "
        "UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_by = ?, "
        f"locked_until = {later}, heartbeat_at = {now}, updated_at = {now} "
        "WHERE id = (SELECT id FROM pick) RETURNING *"
    )


def _dumps(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False)


def _alive(locked_by: object, host: str) -> bool:
    """False only for a claim by a process of this host that no longer exists."""
    if not isinstance(locked_by, str):
        return False
    parts = locked_by.split(":")
    if len(parts) < 2 or parts[0] != host or not parts[1].isdigit():
        return True  # another machine's worker: its lease decides
    pid = int(parts[1])
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def worker_name(index: int, label: str = "worker") -> str:
    """``host:pid:label-index``: who holds a claim (the pid lets a restart spot orphans)."""
    return f"{os.uname().nodename}:{os.getpid()}:{label}-{index}"
