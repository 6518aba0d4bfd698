"""Ingestion throughput on PostgreSQL with 1 vs 2 ``zhiku worker`` processes (bench/pg_scale.py).

Each run: a fresh knowledge base whose embedder is the OpenAI-compatible client pointed at a
local stub server (``_stub_embeddings.py``: vectors cost ~nothing, so what scales or not is
Zhiku's own pipeline and PostgreSQL); the workers start first and wait; then the same articles
are uploaded as API jobs (``Jobs.submit_uploads``, a few files per job, exactly what
``POST /v1/kbs/{kb}/documents`` does) and the clock runs until the last job is done. Runs go in
ABBA order (1, 2, 2, 1 workers) so that a drift in the other tenants' load hits both alike,
after an untimed warm-up run. Each run starts once no autovacuum is running, and the runs'
knowledge bases are deleted only after the last one (a deletion's vacuum would land in the next
run).
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import psycopg

from _common import news_articles
from zhiku.core.settings import Settings
from zhiku.jobs.submit import Upload
from zhiku.runtime import Runtime
from zhiku.service import Zhiku

STUB_MODEL = "openai:stub"
_TICK = os.sysconf("SC_CLK_TCK")


def start_stub() -> tuple[subprocess.Popen[str], str]:
    """The stub embeddings server and its base URL."""
    proc = subprocess.Popen([sys.executable, str(Path(__file__).parent / "_stub_embeddings.py")],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    port = int(proc.stdout.readline().split()[1])
    return proc, f"http://127.0.0.1:{port}/v1"


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def _postgres_cpu() -> float:
    """CPU seconds of the PostgreSQL processes alive now (the workers' backends among them)."""
    total = 0.0
    for proc in psutil.process_iter(["name", "cpu_times"]):
        if proc.info["name"] == "postgres" and proc.info["cpu_times"] is not None:
            total += proc.info["cpu_times"].user + proc.info["cpu_times"].system
    return total


def _start_workers(count: int, env: dict[str, str], logs: Path) -> list[subprocess.Popen[bytes]]:
    zhiku = str(Path(sys.executable).parent / "zhiku")
    procs = []
    for n in range(count):
        log = logs / f"worker{n}.log"
        log.unlink(missing_ok=True)
        procs.append(subprocess.Popen(
            [zhiku, "worker", "--concurrency", "1", "--log-level", "info"],
            env=env, stdout=subprocess.DEVNULL, stderr=log.open("wb")))
    deadline = time.monotonic() + 120
    for n in range(count):  # each logs "worker PID: 1 thread(s) on ..." once it polls the queue
        while "thread(s) on" not in (logs / f"worker{n}.log").read_text(errors="replace"):
            if time.monotonic() > deadline or procs[n].poll() is not None:
                raise RuntimeError((logs / f"worker{n}.log").read_text(errors="replace")[-2000:])
            time.sleep(0.1)
    return procs


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    for proc in procs:
        proc.wait(60)


def one_run(settings: Settings, env: dict[str, str], logs: Path, workers: int, label: str,
            files: list[Upload], per_job: int) -> dict[str, Any]:
    """Ingest ``files`` with ``workers`` worker processes; chunks/s and CPU seconds."""
    with Zhiku(settings) as zk:
        kb = zk.create_kb(label, embedder=STUB_MODEL)
    runtime = Runtime(settings)
    db = runtime.db
    jobs = runtime.workspace(kb.workspace_id).jobs
    procs = _start_workers(workers, env, logs)
    try:
        pg0, load0 = _postgres_cpu(), os.getloadavg()[0]
        t0 = time.perf_counter()
        for start in range(0, len(files), per_job):
            jobs.submit_uploads(label, files[start:start + per_job], {})
        while True:
            row = db.conn.execute(
                "SELECT count(*) FILTER (WHERE status IN ('queued', 'running')), "
                "count(*) FILTER (WHERE status = 'done'), count(*) FROM jobs WHERE kb_id = ?",
                (kb.id,)).fetchone()
            if row[0] == 0:
                break
            time.sleep(0.1)
        seconds = time.perf_counter() - t0
        cpu = [round(_cpu_seconds(p.pid), 2) for p in procs]
        pg_cpu = round(_postgres_cpu() - pg0, 2)
        load = round((load0 + os.getloadavg()[0]) / 2, 2)
    finally:
        _stop(procs)
        runtime.close()
    with Zhiku(settings) as zk:
        stats = zk.stats(label)[label]
    assert row[1] == row[2], f"{row[2] - row[1]} jobs did not finish: see {logs}"
    assert stats["ready"] == len(files) and stats["embedded"] == stats["chunks"], stats
    return {"workers": workers, "kb": label, "documents": stats["documents"],
            "chunks": stats["chunks"], "jobs": row[2], "seconds": round(seconds, 2),
            "chunks_per_s": round(stats["chunks"] / seconds, 1), "worker_cpu_seconds": cpu,
            "chunks_per_worker_cpu_s": round(stats["chunks"] / sum(cpu), 1),
            "postgres_cpu_seconds": pg_cpu,
            "cpu_seconds_per_1000_chunks": round((sum(cpu) + pg_cpu) / stats["chunks"] * 1000, 2),
            "load_average": load}


def quiet_vacuum(url: str, timeout: float = 600.0) -> float:
    """Wait until no autovacuum worker runs (one left over from the previous run would slow the
    next one down); the seconds waited."""
    started = time.monotonic()
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() - started < timeout and conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'"
        ).fetchone()[0]:
            time.sleep(1)
    return round(time.monotonic() - started, 1)


def measure(url: str, home: Path, documents: int, per_job: int, order: list[int]
            ) -> dict[str, Any]:
    """The runs in ``order`` (worker counts) and the 2-vs-1 ratio of their mean throughputs."""
    stub, base_url = start_stub()
    logs = home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "ZHIKU_DATABASE_URL": url, "ZHIKU_OPENAI_EMBED_BASE_URL": base_url,
           "ZHIKU_HOME": str(home / "worker-home"), "ZHIKU_PG_POOL_SIZE": "4"}
    settings = Settings(home=home / "bench-home", database_url=url, pg_pool_size=4,
                        openai_embed_base_url=base_url)
    files = [Upload(f"news/{n:05d}.txt", text.encode(), "text/plain")
             for n, text in enumerate(news_articles(documents))]
    stamp = time.strftime("%H%M%S")
    runs = []
    labels: list[str] = []
    try:
        # Untimed: the first writes after a server start read the big GIN index from disk.
        warmup = one_run(settings, env, logs, 1, f"ingest-{stamp}-warmup", files[:200], per_job)
        labels.append(warmup["kb"])
        print(f"  ingest warm-up: {warmup['chunks_per_s']} chunks/s (not counted)", flush=True)
        for n, workers in enumerate(order):
            waited = quiet_vacuum(url)
            run = one_run(settings, env, logs, workers, f"ingest-{stamp}-{n}-{workers}w", files,
                          per_job)
            labels.append(run["kb"])
            run["waited_for_autovacuum_s"] = waited
            print(f"  ingest run {n}: {workers} worker(s): {run['chunks_per_s']} chunks/s "
                  f"({run['seconds']} s, worker CPU {run['worker_cpu_seconds']} s, postgres CPU "
                  f"{run['postgres_cpu_seconds']} s, load {run['load_average']})", flush=True)
            runs.append(run)
    finally:
        stub.terminate()
        stub.wait(10)
        with Zhiku(settings) as zk:  # the database goes back to the benchmark's N chunks
            for label in labels:
                zk.delete_kb(label)
    rate = {w: statistics.fmean(r["chunks_per_s"] for r in runs if r["workers"] == w)
            for w in sorted(set(order))}
    out: dict[str, Any] = {
        "embedder": f"{STUB_MODEL} (OpenAI-compatible client -> local stub server, 256-d)",
        "documents_per_run": documents, "files_per_job": per_job,
        "worker_threads_per_process": 1, "order": order, "warmup": warmup, "runs": runs,
        "mean_chunks_per_s": {str(w): round(r, 1) for w, r in rate.items()},
    }
    if 1 in rate and 2 in rate:
        out["ratio_2_vs_1_workers"] = round(rate[2] / rate[1], 3)
        out["target_ratio"] = 1.5
    return out
