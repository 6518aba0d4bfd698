"""The queue on both backends: claims are exclusive under concurrency, leases expire and are
renewed, retries back off and end dead, claims are fenced, failed and dead jobs can be retried."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable

from zhiku.jobs import JobQueue
from zhiku.jobs.queue import CANCELLED, LOST, worker_name
from zhiku.store.db import Database

PAST = "2000-01-01T00:00:00.000Z"  # the timestamp format of both backends


def expire_lease(q: JobQueue, job_id: int) -> None:
    """Let a claimed job's lease run out now, without waiting for it."""
    with q.db.write() as conn:
        conn.execute("UPDATE jobs SET locked_until = ? WHERE id = ?", (PAST, job_id))


def test_lifecycle_and_reading(make_queue: Callable[..., JobQueue], db: Database) -> None:
    q = make_queue()
    assert q.claim("w") is None
    with db.write() as conn:
        kb = conn.execute(
            "INSERT INTO knowledge_bases (workspace_id, name, embedder) "
            "VALUES (1, 'kb', 'hashing') RETURNING id"
        ).fetchall()[0][0]
        first = q.enqueue(conn, "ingest", kb, {"items": ["a"]})
    second = q.submit("graph", None, {"n": 1})

    job = q.claim("w1")
    assert job is not None and job.id == first and job.kind == "ingest"
    assert job.status == "running" and job.attempts == 1 and job.locked_by == "w1"
    assert job.payload == {"items": ["a"]} and job.locked_until is not None
    assert job.locked_until > job.updated_at
    assert q.save_progress(job, {"items": ["a"], "done": 1}, 0.5)
    assert q.complete(job, {"items": ["a"], "done": 1})
    done = q.get(first)
    assert done is not None and done.status == "done" and done.progress == 1
    assert done.payload["done"] == 1 and done.locked_until is None
    assert not q.complete(job, {})  # a claim finishes once

    other = q.claim("w2")
    assert other is not None and other.id == second
    assert q.complete(other, {}, error="bad input")
    assert q.claim("w3") is None
    assert q.get(second).status == "failed"  # type: ignore[union-attr]
    assert q.counts() == {"queued": 0, "running": 0, "done": 1, "failed": 1, "dead": 0}
    assert [j.id for j in q.list()] == [second, first]
    assert [j.id for j in q.list(kb_id=kb)] == [first]
    assert [j.id for j in q.list(workspace_id=1)] == [first]
    assert [j.id for j in q.list(status="failed")] == [second]


def test_concurrent_claims_are_exclusive(make_queue: Callable[..., JobQueue]) -> None:
    q = make_queue()
    total = 60
    for n in range(total):
        q.submit("ingest", None, {"n": n})
    claimed: list[int] = []
    lock = threading.Lock()

    def work(name: str) -> None:
        while (job := q.claim(name)) is not None:
            with lock:
                claimed.append(job.id)
            assert q.complete(job, job.payload)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(claimed) == total and len(set(claimed)) == total
    assert q.counts()["done"] == total
    assert all(j.attempts == 1 for j in q.list(limit=total))


def test_expired_lease_goes_to_another_worker(make_queue: Callable[..., JobQueue]) -> None:
    q = make_queue(lease_seconds=60)
    job_id = q.submit("ingest", None, {})
    dead = q.claim("crashed")
    assert dead is not None and q.reap() == []  # the lease still runs
    assert q.claim("other") is None
    expire_lease(q, job_id)
    assert q.reap() == [(job_id, "queued")]
    assert q.get(job_id).error == LOST  # type: ignore[union-attr]
    again = q.claim("other")
    assert again is not None and again.id == job_id and again.attempts == 2
    # the first claim is fenced off: it can neither renew, report nor finish
    assert not q.heartbeat(dead)
    assert not q.save_progress(dead, {"stale": True}, 0.9)
    assert not q.complete(dead, {"stale": True})
    assert q.fail(dead, {}, "late") is None
    assert q.complete(again, {"ok": True})
    assert q.get(job_id).payload == {"ok": True}  # type: ignore[union-attr]


def test_heartbeat_keeps_the_lease(make_queue: Callable[..., JobQueue]) -> None:
    q = make_queue(lease_seconds=60)
    job_id = q.submit("ingest", None, {})
    job = q.claim("w")
    assert job is not None
    for _ in range(3):
        expire_lease(q, job_id)  # a heartbeat renews even a lease about to be reaped
        assert q.heartbeat(job)
        row = q.get(job_id)
        assert row is not None and (row.locked_until or "") > row.updated_at
        assert q.reap() == []
    assert q.complete(job, {})


def test_retries_back_off_then_dead(make_queue: Callable[..., JobQueue]) -> None:
    q = make_queue(max_attempts=3, retry_seconds=30)
    job_id = q.submit("ingest", None, {})
    job = q.claim("w")
    assert job is not None and q.fail(job, {}, "internal error (OSError)") == "queued"
    assert q.claim("w") is None  # backing off for 30 s
    row = q.get(job_id)
    assert row is not None and row.status == "queued" and row.run_after > row.updated_at
    assert row.error == "internal error (OSError)"

    q = make_queue(max_attempts=3, retry_seconds=0)
    db = q.db
    with db.write() as conn:  # skip the wait
        conn.execute(f"UPDATE jobs SET run_after = {db.now} WHERE id = ?", (job_id,))
    for attempt, status in ((2, "queued"), (3, "dead")):
        job = q.claim("w")
        assert job is not None and job.attempts == attempt
        assert q.fail(job, {}, "internal error (OSError)") == status
    assert q.claim("w") is None
    assert [j.id for j in q.list(status="dead")] == [job_id]
    assert q.retry(job_id)  # an administrator queues it again with fresh attempts
    assert not q.retry(job_id)  # only failed or dead jobs
    job = q.claim("w")
    assert job is not None and job.attempts == 1 and job.error is None


def test_lost_worker_on_its_last_attempt_is_dead(make_queue: Callable[..., JobQueue]) -> None:
    q = make_queue(lease_seconds=60, max_attempts=1)
    job_id = q.submit("ingest", None, {})
    assert q.claim("crashed") is not None
    assert q.reap() == []
    expire_lease(q, job_id)
    assert q.reap() == [(job_id, "dead")]


def test_release_does_not_count(make_queue: Callable[..., JobQueue]) -> None:
    q = make_queue()
    job_id = q.submit("ingest", None, {})
    job = q.claim("stopping")
    assert job is not None and q.release(job, {"files_done": 2})
    again = q.claim("next")
    assert again is not None and again.id == job_id and again.attempts == 1
    assert again.payload == {"files_done": 2}


def test_orphans_of_dead_local_processes_are_requeued_at_once(
    make_queue: Callable[..., JobQueue],
) -> None:
    q = make_queue(lease_seconds=3600)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    host = worker_name(0).split(":")[0]
    orphan = q.submit("ingest", None, {})
    alive = q.submit("ingest", None, {})
    elsewhere = q.submit("ingest", None, {})
    assert q.claim(f"{host}:{gone.stdout.strip()}:worker-0") is not None
    assert q.claim(worker_name(0)) is not None  # this process: alive
    assert q.claim("another-host:1:worker-0") is not None  # its lease decides
    assert q.requeue_orphans() == [(orphan, "queued")]
    status = Counter({j.id: j.status for j in q.list()}.values())
    assert status == {"queued": 1, "running": 2}
    assert {j.id for j in q.list(status="running")} == {alive, elsewhere}


def _workspace_kb(db: Database, name: str) -> int:
    """A new workspace with one knowledge base; the knowledge base's id."""
    with db.write() as conn:
        ws = conn.execute("INSERT INTO workspaces (name) VALUES (?) RETURNING id",
                          (name,)).fetchall()[0][0]
        return int(conn.execute(
            "INSERT INTO knowledge_bases (workspace_id, name, embedder) "
            "VALUES (?, 'kb', 'hashing') RETURNING id", (ws,)).fetchall()[0][0])


def test_claims_take_turns_between_workspaces(
    make_queue: Callable[..., JobQueue], db: Database,
) -> None:
    q = make_queue()  # no cap: the least busy workspace first, then the oldest job
    busy, quiet = _workspace_kb(db, "busy"), _workspace_kb(db, "quiet")
    flood = [q.submit("ingest", busy, {"n": n}) for n in range(4)]
    later = [q.submit("ingest", quiet, {"n": n}) for n in range(2)]
    loose = q.submit("graph", None, {})  # no knowledge base: a group of its own
    claimed = [q.claim(f"w{n}") for n in range(7)]
    assert [j.id for j in claimed if j is not None] == [
        flood[0], later[0], loose, flood[1], later[1], flood[2], flood[3]]
    assert q.claim("w") is None


def test_a_workspace_at_its_cap_waits(make_queue: Callable[..., JobQueue], db: Database) -> None:
    q = make_queue(max_running_per_workspace=2)
    busy, quiet = _workspace_kb(db, "busy"), _workspace_kb(db, "quiet")
    flood = [q.submit("ingest", busy, {"n": n}) for n in range(4)]
    first = q.claim("w0")
    second = q.claim("w1")
    assert first is not None and second is not None
    assert [first.id, second.id] == flood[:2]
    assert q.claim("w2") is None  # the busy workspace runs two: the rest of its jobs wait
    late = q.submit("ingest", quiet, {})
    third = q.claim("w2")
    assert third is not None and third.id == late  # queued last, claimed at once
    assert q.complete(first, {})
    fourth = q.claim("w3")
    assert fourth is not None and fourth.id == flood[2]
    assert q.claim("w4") is None
    assert q.counts()["queued"] == 1


def test_the_cap_holds_under_concurrent_claims(
    make_queue: Callable[..., JobQueue], db: Database,
) -> None:
    q = make_queue(max_running_per_workspace=2)
    kb = _workspace_kb(db, "flood")
    for n in range(12):
        q.submit("ingest", kb, {"n": n})
    start = threading.Barrier(8)
    claimed: list[int] = []
    lock = threading.Lock()

    def claim(name: str) -> None:
        start.wait()
        job = q.claim(name)
        if job is not None:
            with lock:
                claimed.append(job.id)

    threads = [threading.Thread(target=claim, args=(f"w{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(claimed) == 2
    assert q.counts()["running"] == 2


def test_cancel_ends_queued_and_running_jobs(make_queue: Callable[..., JobQueue]) -> None:
    q = make_queue()
    queued = q.submit("ingest", None, {})
    running_id = q.submit("ingest", None, {})
    cancelled = q.cancel(queued)
    assert cancelled is not None and (cancelled.status, cancelled.error) == ("failed", CANCELLED)
    running = q.claim("w")
    assert running is not None and running.id == running_id
    assert q.cancel(running_id) is not None
    assert not q.heartbeat(running)  # the worker loses its claim and stops
    assert not q.complete(running, {})
    assert q.get(running_id).status == "failed"  # type: ignore[union-attr]
    assert q.cancel(running_id) is None  # an ended job is not cancelled again
    assert q.claim("w") is None
