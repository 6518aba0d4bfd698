"""Server mode as deployed, with processes on 127.0.0.1: one database, two ``zhiku serve
--no-jobs`` and two ``zhiku worker``. 200 real documents are uploaded through both servers,
several per request; one worker is SIGKILLed while it holds a job, after some documents are
indexed. Every document ends indexed exactly once, and both servers return the same results.

Select with ``-m multiprocess``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from pgtest import backend_params
from serving import ZHIKU, free_port, wait_ready
from waiting import wait_until
from zhiku.core.settings import Settings
from zhiku.jobs import JobQueue
from zhiku.store.db import Database, open_database

pytestmark = [pytest.mark.slow, pytest.mark.multiprocess]
DOCS, PER_REQUEST, KB = 200, 5, "corpus"
HOST = os.uname().nodename


class Cluster:
    """The processes of one deployment and what they log."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs = env, logs
        self.procs: list[subprocess.Popen[bytes]] = []
        self.servers: list[str] = []
        self.workers: list[subprocess.Popen[bytes]] = []

    def _spawn(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        with (self.logs / f"{name}.log").open("wb") as log:
            proc = subprocess.Popen([ZHIKU, *args], env=self.env, stdout=log, stderr=log)
        self.procs.append(proc)
        return proc

    def server(self) -> None:
        port = free_port()
        self._spawn(f"serve-{len(self.servers)}", "serve", "--host", "127.0.0.1", "--port",
                    str(port), "--no-jobs", "--log-level", "warning")
        self.servers.append(f"http://127.0.0.1:{port}")

    def worker(self) -> subprocess.Popen[bytes]:
        proc = self._spawn(f"worker-{len(self.workers)}", "worker", "--concurrency", "2")
        self.workers.append(proc)
        return proc

    def wait_ready(self) -> None:
        for base in self.servers:
            wait_ready(base, why=self.tail)

    def tail(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
                         for p in sorted(self.logs.glob("*.log")))

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture(params=backend_params(postgres="postgresql"))
def database_url(request: pytest.FixtureRequest, zhiku_home: Path) -> str:
    """One database of the run's backend for every process: a PostgreSQL database (or, in the
    SQLite pass, for comparison, one SQLite file)."""
    if request.param == "sqlite":
        return f"sqlite:///{zhiku_home / 'zhiku.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def cluster(database_url: str, zhiku_home: Path, tmp_path: Path) -> Iterator[Cluster]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZHIKU_")}
    env.update(
        ZHIKU_HOME=str(zhiku_home), ZHIKU_DATABASE_URL=database_url, ZHIKU_EMBEDDER="hashing",
        ZHIKU_OCR="false", ZHIKU_API_RATE_LIMIT_PER_MINUTE="0", ZHIKU_PG_POOL_SIZE="8",
        ZHIKU_JOBS_LEASE_SECONDS="2", ZHIKU_JOBS_RETRY_SECONDS="0.2",
    )
    logs = tmp_path / "logs"
    logs.mkdir()
    c = Cluster(env, logs)
    yield c
    c.close()


def _documents(passages: list[Any]) -> list[tuple[str, bytes, str]]:
    """Real abstracts as markdown (title heading) and plain-text files, one unique name each."""
    out = []
    for n, p in enumerate(passages):
        if n % 4 == 3:
            out.append((f"abstract-{n:03}.txt", f"{p.title}\n\n{p.text}\n".encode(), "text/plain"))
        else:
            out.append((f"abstract-{n:03}.md", f"# {p.title}\n\n{p.text}\n".encode(),
                        "text/markdown"))
    return out


def _upload(cluster: Cluster, key: str, docs: list[tuple[str, bytes, str]], first: int) -> None:
    """``docs`` in requests of PER_REQUEST files, alternating servers, four at a time."""
    batches = [docs[i:i + PER_REQUEST] for i in range(0, len(docs), PER_REQUEST)]

    def send(n: int) -> None:
        base = cluster.servers[(first + n) % len(cluster.servers)]
        r = httpx.post(f"{base}/v1/kbs/{KB}/documents", timeout=60,
                       headers={"Authorization": f"Bearer {key}"},
                       files=[("files", doc) for doc in batches[n]])
        assert r.status_code == 202, r.text
        assert r.json()["files_total"] == len(batches[n])

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(send, range(len(batches))))


def _scalar(db: Database, sql: str, *params: Any) -> int:
    return int(db.conn.execute(sql, params).fetchone()[0])


def _kill_mid_job(
    db: Database, victim: subprocess.Popen[bytes], ready_at_least: int
) -> list[int] | None:
    """SIGKILL ``victim`` once ``ready_at_least`` documents are ready and it holds a job; the ids
    of the jobs it still held when it died (empty if they all finished in between). ``None``
    when the queue ran dry first without the victim holding a job at the right moment (on
    loaded machines the other worker can take them all): the victim is still alive."""
    prefix = f"{HOST}:{victim.pid}:"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready = _scalar(db, "SELECT count(*) FROM documents WHERE status = 'ready'")
        held = db.conn.execute(
            "SELECT id, locked_by, attempts FROM jobs WHERE status = 'running' "
            "AND locked_by LIKE ?", (prefix + "%",)).fetchall()
        if ready >= ready_at_least and held:
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            claims = {(r[0], r[1], r[2]) for r in held}
            now = db.conn.execute(
                "SELECT id, locked_by, attempts FROM jobs WHERE status = 'running' "
                "AND locked_by LIKE ?", (prefix + "%",)).fetchall()
            return sorted(r[0] for r in now if (r[0], r[1], r[2]) in claims)
        if not _scalar(db, "SELECT count(*) FROM jobs WHERE status IN ('queued', 'running')"):
            return None
        time.sleep(0.005)
    raise AssertionError("the victim never held a job")


def _check_indexed_once(db: Database, names: list[str]) -> None:
    """One ready document per source; each document's chunks once (ords 0..n-1, no repeats);
    one vector per searchable chunk."""
    kb_id = _scalar(db, "SELECT id FROM knowledge_bases WHERE name = ?", KB)
    rows = db.conn.execute(
        "SELECT d.source, d.status, d.chunk_count, count(c.id), count(DISTINCT c.ord), "
        "min(c.ord), max(c.ord), sum(c.searchable) FROM documents d "
        "LEFT JOIN chunks c ON c.document_id = d.id WHERE d.kb_id = ? "
        "GROUP BY d.id, d.source, d.status, d.chunk_count ORDER BY d.source", (kb_id,)
    ).fetchall()
    assert [r[0] for r in rows] == sorted(names)  # none missing, none twice
    for source, status, chunk_count, n, distinct, low, high, searchable in rows:
        assert status == "ready", source
        assert n > 0 and n == distinct and low == 0 and high == n - 1, source
        assert searchable == chunk_count, source
    bad_vectors = _scalar(
        db, "SELECT count(*) FROM chunks c WHERE c.kb_id = ? AND c.searchable = 1 AND "
        "(SELECT count(*) FROM embeddings e WHERE e.chunk_id = c.id) <> 1", kb_id)
    assert bad_vectors == 0


def test_two_servers_two_workers_one_database(
    cluster: Cluster, scifact_first: Callable[[int], list[Any]], database_url: str,
    zhiku_home: Path,
) -> None:
    started = time.monotonic()
    docs = _documents(scifact_first(DOCS))
    init = subprocess.run(
        [ZHIKU, "admin", "init", "--email", "owner@acme.example", "--workspace", "acme",
         "--password-stdin", "--json"],
        input=b"correct horse battery\n", capture_output=True, env=cluster.env, check=True)
    key = json.loads(init.stdout)["key"]
    for _ in range(2):
        cluster.server()
    victim = cluster.worker()
    survivor = cluster.worker()
    cluster.wait_ready()
    h = {"Authorization": f"Bearer {key}"}
    assert httpx.post(f"{cluster.servers[0]}/v1/kbs", headers=h, json={"name": KB},
                      timeout=30).status_code == 201
    up = time.monotonic()

    db = open_database(Settings(home=zhiku_home, database_url=database_url), migrate=False)
    queue = JobQueue(db)
    try:
        half = DOCS // 2
        _upload(cluster, key, docs[:half], 0)
        killed = _kill_mid_job(db, victim, ready_at_least=20)
        if not killed:  # its jobs finished in the instant before the kill: once more
            if killed is not None:
                victim = cluster.worker()
            _upload(cluster, key, docs[half:], 1)
            killed = _kill_mid_job(db, victim, ready_at_least=half + 10)
        else:
            _upload(cluster, key, docs[half:], 1)
        assert killed, "no job was held by the killed worker"
        uploaded = time.monotonic()


        def all_done() -> dict[str, int] | None:
            counts = queue.counts()
            assert counts["failed"] == counts["dead"] == 0, (counts, cluster.tail())
            assert survivor.poll() is None, cluster.tail()
            return counts if counts["done"] >= DOCS // PER_REQUEST else None

        counts = wait_until(all_done, 120, lambda: f"every job done\n{cluster.tail()}",
                            interval=0.2)
        processed = time.monotonic()
        assert counts == {"queued": 0, "running": 0, "done": DOCS // PER_REQUEST, "failed": 0,
                          "dead": 0}

        for job_id in killed:  # retried by the survivor after the lease ran out
            job = queue.get(job_id)
            assert job is not None and job.status == "done" and job.attempts >= 2
            assert job.locked_by is not None and f":{victim.pid}:" not in job.locked_by
        log = (cluster.logs / "worker-1.log").read_text()
        assert any(f"job {job_id} ingest: started by" in log for job_id in killed), log
        _check_indexed_once(db, [name for name, _, _ in docs])
    finally:
        db.close()

    for passage in scifact_first(DOCS)[::20]:
        answers = [
            httpx.post(f"{base}/v1/search", headers=h, timeout=30,
                       json={"query": passage.title, "top_k": 8}).json()
            for base in cluster.servers
        ]
        assert answers[0] == answers[1]
        assert answers[0]["hits"], passage.title
    survivor.send_signal(signal.SIGTERM)  # a graceful stop
    assert survivor.wait(30) == 0
    assert "stopped" in (cluster.logs / "worker-1.log").read_text().splitlines()[-1]
    print(f"\nmultiprocess: start {up - started:.1f}s, upload+kill {uploaded - up:.1f}s, "
          f"all indexed {processed - up:.1f}s after the first upload, "
          f"total {time.monotonic() - started:.1f}s; killed jobs {killed}")
