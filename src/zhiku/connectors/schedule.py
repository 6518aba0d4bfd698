"""Scheduled syncs: a cron expression per source (UTC), and queueing the runs that are due.

Cron expressions are read with ``croniter`` (the ``connectors`` extra). Each source keeps when
it is next due; a process looking for due sources first moves that time on with a conditional
update (``WHERE next_run_at = <the time it read>``), so of several processes looking at once
exactly one queues the run, and a source already syncing gets no second run.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from zhiku.connectors.store import release_stale, set_job, start_run
from zhiku.core.errors import InvalidInput, MissingDependency
from zhiku.store.db import Connection, Database

log = logging.getLogger(__name__)


def _croniter() -> Any:
    try:
        from croniter import croniter
    except ImportError:
        raise MissingDependency("schedules need croniter: pip install 'zhiku[connectors]'") \
            from None
    return croniter


def iso(moment: datetime) -> str:
    """``moment`` as the database's ISO-8601 UTC text."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + \
        f"{moment.microsecond // 1000:03d}Z"


def next_run(cron: str, after: datetime | None = None) -> str:
    """When ``cron`` is next due after ``after`` (default: now), as ISO text; ``InvalidInput``
    for an expression that is not cron."""
    croniter = _croniter()
    base = (after or datetime.now(UTC)).astimezone(UTC)
    if not croniter.is_valid(cron):
        raise InvalidInput(f"'{cron}' is not a cron expression (e.g. '0 3 * * *')")
    try:
        moment: datetime = croniter(cron, base).get_next(datetime)
    except Exception:  # croniter's own errors: a date that never comes (31 February)
        raise InvalidInput(f"'{cron}' never comes due") from None
    return iso(moment)


def sync_job_payload(workspace_id: int, kb: str, source_id: int, run_id: int) -> dict[str, Any]:
    """What a ``sync`` job carries."""
    return {"workspace_id": workspace_id, "kb": kb, "source_id": source_id, "run_id": run_id,
            "files_total": 0, "files_done": 0, "chunks_total": 0, "chunks_embedded": 0,
            "results": []}


Enqueue = Callable[[Connection, str, "int | None", dict[str, Any]], int]
"""Queues a job inside the caller's write transaction (``JobQueue.enqueue``)."""


def submit_due(db: Database, enqueue: Enqueue, now: datetime | None = None) -> list[int]:
    """Queue a run of every enabled source whose schedule is due; returns the runs' ids."""
    moment = now or datetime.now(UTC)
    rows = db.conn.execute(
        "SELECT s.id, s.kb_id, s.schedule, s.next_run_at, k.workspace_id, k.name AS kb "
        "FROM sources s JOIN knowledge_bases k ON k.id = s.kb_id "
        "WHERE s.schedule IS NOT NULL AND s.enabled = 1 AND s.next_run_at <= ?",
        (iso(moment),)).fetchall()
    queued: list[int] = []
    for row in rows:
        try:
            upcoming = next_run(row["schedule"], moment)
        except InvalidInput as exc:
            log.warning("source %s: %s", row["id"], exc.message)
            continue
        release_stale(db, int(row["id"]))
        with db.write() as conn:
            moved = conn.execute(
                "UPDATE sources SET next_run_at = ? WHERE id = ? AND next_run_at = ?",
                (upcoming, row["id"], row["next_run_at"]))
            if moved.rowcount != 1:
                continue  # another process took this tick
            run_id = start_run(conn, int(row["id"]), "schedule", None, False)
            if run_id is None:
                continue  # still syncing from before: this tick is skipped
            payload = sync_job_payload(int(row["workspace_id"]), row["kb"], int(row["id"]),
                                       run_id)
            set_job(conn, run_id, enqueue(conn, "sync", int(row["kb_id"]), payload))
        queued.append(run_id)
    return queued


class Scheduler:
    """A thread that queues due scheduled syncs every ``seconds``."""

    def __init__(self, db: Database, enqueue: Enqueue, seconds: float,
                 on_queued: Callable[[], None] | None = None) -> None:
        self._db = db
        self._enqueue = enqueue
        self._seconds = seconds
        self._on_queued = on_queued
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start looking (nothing when ``seconds`` is 0)."""
        if self._seconds <= 0:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="zhiku-sync-schedule",
                                        daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop looking."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.wait(self._seconds):
            try:
                if submit_due(self._db, self._enqueue) and self._on_queued is not None:
                    self._on_queued()
            except MissingDependency as exc:
                log.warning("scheduled syncs: %s", exc.message)
            except Exception:  # the database went away: look again next time
                log.exception("scheduled syncs: cannot queue due runs")
