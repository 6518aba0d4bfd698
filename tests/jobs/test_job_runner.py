"""Worker threads on both backends: every job runs once and never twice at the same time; how a
try ends decides done, failed, retried or dead; a job of a worker that died is taken over; a
stop hands unfinished work back."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from waiting import wait_until
from zhiku.core.errors import InvalidInput, ProviderError
from zhiku.jobs import Control, Interrupted, Job, JobQueue, Outcome, QueueOptions, Runner
from zhiku.store.postgres.db import PgDatabase
from zhiku.store.postgres.migrations import migrate


class Recorder:
    """A handler that notes who ran what, and whether two ran one job at the same time."""

    def __init__(self, seconds: float = 0.02) -> None:
        self.seconds = seconds
        self.runs: list[tuple[int, str]] = []
        self.overlaps = 0
        self.peak = 0
        self._now: set[int] = set()
        self._lock = threading.Lock()

    def __call__(self, job: Job, control: Control) -> Outcome:
        with self._lock:
            if job.id in self._now:
                self.overlaps += 1
            self._now.add(job.id)
            self.peak = max(self.peak, len(self._now))
            self.runs.append((job.id, threading.current_thread().name))
        time.sleep(self.seconds)
        control.save({**job.payload, "ran": True}, 0.5)
        with self._lock:
            self._now.discard(job.id)
        return Outcome({**job.payload, "ran": True})


def test_runners_share_the_queue(make_queue: Callable[..., JobQueue]) -> None:
    q = make_queue(lease_seconds=5)
    total = 40
    ids = [q.submit("ingest", None, {"n": n}) for n in range(total)]
    record = Recorder()
    runners = [Runner(q, record, concurrency=3, poll_seconds=0.05, label=f"r{n}")
               for n in range(2)]
    for r in runners:
        r.start()
    try:
        wait_until(lambda: q.counts()["done"] == total, 20, "every job done")
    finally:
        for r in runners:
            assert r.stop(10)
    assert sorted(i for i, _ in record.runs) == ids  # each once
    assert record.overlaps == 0 and record.peak > 1
    assert len({name for _, name in record.runs}) > 1
    assert all(j.payload["ran"] and j.attempts == 1 for j in q.list(limit=total))


def test_how_a_try_ends(make_queue: Callable[..., JobQueue]) -> None:
    q = make_queue(max_attempts=2, retry_seconds=0)
    calls: dict[str, int] = {}

    def handler(job: Job, control: Control) -> Outcome:
        what = job.payload["what"]
        calls[what] = calls.get(what, 0) + 1
        if what == "bad-input":
            raise InvalidInput("not a document")
        if what == "provider-down":
            raise ProviderError("the embedding server answered 503")
        if what == "crash":
            raise RuntimeError("secret detail")
        if what == "flaky" and calls[what] == 1:
            raise OSError("disk hiccup")
        return Outcome(job.payload, error="all files failed" if what == "no-files" else None)

    ids = {w: q.submit("ingest", None, {"what": w})
           for w in ("ok", "bad-input", "provider-down", "crash", "flaky", "no-files")}
    runner = Runner(q, handler, concurrency=2, poll_seconds=0.05)
    runner.start()
    try:
        wait_until(lambda: q.counts()["queued"] + q.counts()["running"] == 0, 20,
                   "an empty queue")
    finally:
        runner.stop(10)
    jobs = {w: q.get(i) for w, i in ids.items()}
    got = {w: (j.status, j.attempts, j.error) for w, j in jobs.items() if j is not None}
    assert got == {
        "ok": ("done", 1, None),
        "bad-input": ("failed", 1, "not a document"),
        "provider-down": ("dead", 2, "the embedding server answered 503"),
        "crash": ("dead", 2, "internal error (RuntimeError)"),
        "flaky": ("done", 2, None),
        "no-files": ("failed", 1, "all files failed"),
    }


def test_a_dead_workers_job_is_taken_over(make_queue: Callable[..., JobQueue]) -> None:
    q = make_queue(lease_seconds=0.6)
    job_id = q.submit("ingest", None, {})
    assert q.claim("another-host:4242:worker-0") is not None  # then that machine died
    record = Recorder()
    runner = Runner(q, record, poll_seconds=0.05)
    runner.start()
    try:
        wait_until(lambda: q.counts()["done"] == 1, 20, "the job done")
    finally:
        runner.stop(10)
    job = q.get(job_id)
    assert job is not None and job.attempts == 2 and job.locked_by != "another-host:4242:worker-0"
    assert [i for i, _ in record.runs] == [job_id]


def test_a_long_job_keeps_its_lease(make_queue: Callable[..., JobQueue]) -> None:
    q = make_queue(lease_seconds=0.6)
    q.submit("ingest", None, {})
    record = Recorder(seconds=2.0)  # three leases long: only heartbeats keep it
    runner = Runner(q, record, poll_seconds=0.05)
    other = Runner(q, record, poll_seconds=0.05, label="other")
    runner.start()
    wait_until(lambda: q.counts()["running"] == 1, 20, "the job running")
    other.start()
    try:
        wait_until(lambda: q.counts()["done"] == 1, 20, "the job done")
    finally:
        runner.stop(10)
        other.stop(10)
    assert len(record.runs) == 1 and record.overlaps == 0


def test_stop_hands_unfinished_work_back(make_queue: Callable[..., JobQueue]) -> None:
    q = make_queue()
    job_id = q.submit("ingest", None, {"files_done": 0})
    started = threading.Event()

    def slow(job: Job, control: Control) -> Outcome:
        state: dict[str, Any] = job.payload
        while True:  # one "file" at a time, stopping between files when asked
            started.set()
            time.sleep(0.05)
            state["files_done"] += 1
            control.save(state, 0.1)
            control.check()

    runner = Runner(q, slow, poll_seconds=0.05)
    runner.start()
    assert started.wait(10)
    assert runner.stop(10)
    job = q.get(job_id)
    assert job is not None and job.status == "queued" and job.attempts == 0
    assert job.payload["files_done"] >= 1


def test_interrupted_after_a_lost_lease_leaves_the_row_alone(
    make_queue: Callable[..., JobQueue],
) -> None:
    q = make_queue()
    q.submit("ingest", None, {})
    job = q.claim("w")
    assert job is not None
    stopping = threading.Event()
    control = Control(q, job, stopping)
    with q.db.write() as conn:  # another worker took it over meanwhile
        conn.execute("UPDATE jobs SET locked_by = 'thief', attempts = 2 WHERE id = ?", (job.id,))
    control.save({"x": 1}, 0.2)
    assert control.lost
    try:
        control.check()
    except Interrupted:
        pass
    else:
        raise AssertionError("expected Interrupted")
    assert q.get(job.id).locked_by == "thief"  # type: ignore[union-attr]


def test_a_queued_job_wakes_idle_workers_in_other_processes(pg_url: str) -> None:
    """On PostgreSQL a job queued through another connection pool (another process: the API
    server) starts at once, not at the worker's next poll (an hour away here)."""
    worker_db, server_db = PgDatabase(pg_url, pool_size=4), PgDatabase(pg_url, pool_size=2)
    try:
        migrate(worker_db)
        record = Recorder(seconds=0)
        runner = Runner(JobQueue(worker_db, QueueOptions()), record, poll_seconds=3600)
        runner.start()
        try:
            assert runner._listener is not None
            assert runner._listener.listening.wait(10)
            time.sleep(0.2)  # the runner's first look found nothing: it waits for the poll
            server = JobQueue(server_db, QueueOptions())
            for n in range(3):
                started = time.monotonic()
                job_id = server.submit("ingest", None, {"n": n})
                wait_until(lambda done=n + 1: server.counts()["done"] == done, 10,
                           f"job {n + 1} done")
                assert time.monotonic() - started < 5
                assert record.runs[-1][0] == job_id
        finally:
            assert runner.stop(10)
    finally:
        worker_db.close()
        server_db.close()
