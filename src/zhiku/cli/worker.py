"""``zhiku worker``: run background jobs from the shared queue (server mode).

Any number of workers on any number of machines share one PostgreSQL database
(``ZHIKU_DATABASE_URL``); each claims jobs with ``FOR UPDATE SKIP LOCKED`` under a lease it
renews, so a worker that dies leaves its job to another. SIGTERM or SIGINT stops it gracefully:
no new claims, and running jobs hand the rest of their work back at the next file; a second
signal exits at once (leases then run out and other workers retry).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from types import FrameType

import typer

from zhiku.cli.context import handle_errors
from zhiku.core.heap import tune_allocator
from zhiku.core.logging import configure_logging
from zhiku.core.settings import Settings
from zhiku.jobs.process import Jobs
from zhiku.runtime import Runtime

log = logging.getLogger(__name__)


@handle_errors
def worker(
    concurrency: int | None = typer.Option(
        None, "--concurrency", "-c", min=1, max=64,
        help="Jobs run at once (threads); default ZHIKU_WORKER_CONCURRENCY.",
    ),
    grace: float = typer.Option(
        30.0, min=0, help="Seconds a stop waits for running jobs to hand back their work."
    ),
    log_level: str | None = typer.Option(
        None, help="Log level: debug, info, warning, error (default ZHIKU_LOG_LEVEL, info)."
    ),
) -> None:
    """Run background jobs (ingestion, re-indexing, embedding, graph builds, eval runs, source
    syncs and their schedules) until stopped."""
    settings = Settings()
    configure_logging(log_level or settings.log_level, json=settings.log_json)
    threads = concurrency or settings.worker_concurrency
    tune_allocator(settings.malloc_mmap_threshold_kb)
    runtime = Runtime(settings)
    runtime.start_upkeep()  # PostgreSQL: warm its buffers, compact term_df, in the background
    jobs = Jobs.of(settings, runtime.db, runtime)
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        if stop.is_set():
            log.warning("second signal: exiting now; running jobs go to other workers")
            os._exit(1)
        log.info("%s: stopping after the current files", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        jobs.start(concurrency=threads, label="worker")
        log.info("worker %d: %d thread(s) on %s", os.getpid(), threads, settings.database_display)
        while not stop.wait(1.0):
            pass
        if not jobs.stop(grace):
            log.warning("some jobs are still running; their leases will run out")
    finally:
        runtime.close()
    log.info("worker %d: stopped", os.getpid())
