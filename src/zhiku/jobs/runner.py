"""Worker threads: claim a job, run it through a handler, record how it ended.

How a try ends decides what happens next: the handler returns (``done``, or ``failed`` when it
reports bad input), raises a ``ZhikuError`` with a 4xx status (``failed``: retrying cannot
help), raises anything else (queued again after a back-off, ``dead`` after the last attempt),
or raises ``Interrupted`` (the worker is stopping: the job goes back to the queue and the try
does not count). A housekeeping thread renews the leases of the jobs this runner holds and
requeues the jobs of workers that died anywhere (expired leases). ``on_dead`` hears of every job
this runner saw end ``dead``, so the work a job stands for (an eval run) can be marked failed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from zhiku.core.errors import ZhikuError
from zhiku.core.heap import release_free_memory
from zhiku.jobs.notify import Listener, listener
from zhiku.jobs.queue import Job, JobQueue, worker_name
from zhiku.permissions.context import reading_as
from zhiku.store.reader import EVERYTHING

log = logging.getLogger(__name__)


class Interrupted(Exception):
    """The job must stop at its next safe point: the worker is stopping or lost the lease."""


@dataclass(slots=True)
class Outcome:
    """A finished try: the job's final state, and ``error`` when it failed for good."""

    payload: dict[str, Any]
    error: str | None = None


class Control:
    """What a running job may ask of its worker: save progress, and whether to stop."""

    def __init__(self, queue: JobQueue, job: Job, stopping: threading.Event) -> None:
        self.queue = queue
        self.job = job
        self.lost = False
        self._stopping = stopping

    def check(self) -> None:
        """Raise ``Interrupted`` if the job should stop now."""
        if self.lost:
            raise Interrupted("the job's lease was lost")
        if self._stopping.is_set():
            raise Interrupted("the worker is stopping")

    def save(self, payload: dict[str, Any], progress: float) -> None:
        """Persist progress (a lost claim is noticed here too)."""
        if not self.queue.save_progress(self.job, payload, progress):
            self.lost = True


class Handler(Protocol):
    """Runs one job; raises to fail it (see the module docstring)."""

    def __call__(self, job: Job, control: Control) -> Outcome: ...


class Runner:
    """``concurrency`` worker threads and one housekeeping thread over a queue."""

    def __init__(
        self,
        queue: JobQueue,
        handler: Handler,
        *,
        concurrency: int = 1,
        poll_seconds: float = 1.0,
        label: str = "worker",
        on_dead: Callable[[int], None] | None = None,
    ) -> None:
        self.queue = queue
        self.handler = handler
        self.on_dead = on_dead
        self.concurrency = concurrency
        self.poll_seconds = poll_seconds
        self.label = label
        self._stopping = threading.Event()
        self._closed = threading.Event()
        self._wake = threading.Event()
        self._workers: list[threading.Thread] = []
        self._keeper: threading.Thread | None = None
        self._listener: Listener | None = None
        self._active: dict[int, Control] = {}
        self._lock = threading.Lock()
        self._garbage = False  # a job ended since the heap was last handed back

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        """Requeue jobs orphaned by dead processes, then start the threads."""
        for job_id, status in self.queue.requeue_orphans():
            log.warning("job %d: its worker is gone; now %s", job_id, status)
            self._ended(job_id, status)
        self._stopping.clear()
        self._closed.clear()
        self._workers = [
            threading.Thread(target=self._work, args=(n,), name=f"zhiku-{self.label}-{n}",
                             daemon=True)
            for n in range(self.concurrency)
        ]
        self._keeper = threading.Thread(target=self._housekeep, name="zhiku-jobs-lease",
                                        daemon=True)
        for thread in [*self._workers, self._keeper]:
            thread.start()
        self._listener = listener(self.queue.db, self.wake)
        if self._listener is not None:
            self._listener.start()

    def wake(self) -> None:
        """A job was queued: look now rather than at the next poll."""
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop claiming; running jobs hand their rest back at their next safe point. Waits up
        to ``timeout`` seconds; True when every thread has stopped."""
        self._stopping.set()
        self._wake.set()
        if self._listener is not None:
            self._listener.stop()
            self._listener = None
        deadline = time.monotonic() + timeout
        for thread in self._workers:
            thread.join(max(deadline - time.monotonic(), 0.0))
        stopped = not any(t.is_alive() for t in self._workers)
        self._closed.set()  # leases of jobs still running lapse, and other workers retry them
        if self._keeper is not None:
            self._keeper.join(max(deadline - time.monotonic(), 0.0))
        return stopped

    @property
    def running(self) -> bool:
        """Whether every worker thread is alive."""
        return bool(self._workers) and all(t.is_alive() for t in self._workers)

    @property
    def active(self) -> list[Job]:
        """The jobs this runner holds now."""
        with self._lock:
            return [c.job for c in self._active.values()]

    # -- the threads ----------------------------------------------------------------------
    def _work(self, index: int) -> None:
        name = worker_name(index, self.label)
        while not self._stopping.is_set():
            try:
                job = self.queue.claim(name)
                if job is not None:
                    self.execute(job)
                    continue
                self._release_when_idle()
            except Exception:  # the database went away: keep the worker, try again later
                log.exception("worker %s: cannot reach the queue", name)
            self._wake.wait(self.poll_seconds)
            self._wake.clear()

    def execute(self, job: Job) -> None:
        """Run one claimed job and record how it ended."""
        control = Control(self.queue, job, self._stopping)
        with self._lock:
            self._active[job.id] = control
        started = time.monotonic()
        log.info("job %d %s: started by %s (attempt %d of %d)",
                 job.id, job.kind, job.locked_by, job.attempts, job.max_attempts)
        try:
            self._finish(job, control, started)
        finally:
            with self._lock:
                self._active.pop(job.id, None)
                self._garbage = True

    def _release_when_idle(self) -> None:
        """Once no job runs and none waits, collect what the finished jobs built (parsed files,
        batches, caches) and hand the free heap back: an idle server goes back to its idle size
        rather than staying at the jobs' peak. Not after every job: a full collection holds the
        GIL, and a busy runner's jobs (and their leases) would wait on it."""
        with self._lock:
            if not self._garbage or self._active:
                return
            self._garbage = False
        release_free_memory()

    def _finish(self, job: Job, control: Control, started: float) -> None:
        def took() -> float:
            return time.monotonic() - started

        try:
            # a job reads every document (the request that queued it was checked); an eval run
            # narrows this to the reader who started it (handlers.py)
            with reading_as(EVERYTHING):
                outcome = self.handler(job, control)
        except Interrupted as exc:
            if not control.lost and self.queue.release(job, job.payload):
                log.info("job %d: handed back (%s)", job.id, exc)
            else:
                log.warning("job %d: abandoned, its lease was lost", job.id)
            return
        except ZhikuError as exc:
            if exc.status < 500:
                self.queue.complete(job, job.payload, exc.message)
                log.info("job %d: failed in %.1fs: %s", job.id, took(), exc.message)
                return
            self._retry(job, exc.message, took())
            return
        except Exception as exc:
            log.exception("job %d: internal error", job.id)
            self._retry(job, f"internal error ({type(exc).__name__})", took())
            return
        if self.queue.complete(job, outcome.payload, outcome.error):
            log.info("job %d: %s in %.1fs%s", job.id, "failed" if outcome.error else "done",
                     took(), f": {outcome.error}" if outcome.error else "")
        else:
            log.warning("job %d: finished after its lease was lost; result not recorded", job.id)

    def _retry(self, job: Job, error: str, seconds: float) -> None:
        status = self.queue.fail(job, job.payload, error)
        self._ended(job.id, status)
        if status == "queued":
            log.warning("job %d: attempt %d failed after %.1fs (%s); retry in %.0fs", job.id,
                        job.attempts, seconds, error, self.queue.options.backoff(job.attempts))
        else:
            log.error("job %d: %s after %d attempts: %s", job.id, status or "lost",
                      job.attempts, error)

    def _housekeep(self) -> None:
        interval = max(0.05, min(self.queue.options.lease_seconds / 3, 10.0))
        while not self._closed.wait(interval):
            try:
                with self._lock:
                    held = list(self._active.values())
                for control in held:
                    if not self.queue.heartbeat(control.job):
                        control.lost = True
                        log.warning("job %d: lease lost", control.job.id)
                reaped = self.queue.reap()
            except Exception:  # keep renewing: a lapse would hand our jobs to others
                log.exception("cannot renew leases")
                continue
            for job_id, status in reaped:
                log.warning("job %d: its worker stopped; now %s", job_id, status)
                self._ended(job_id, status)
            if reaped:
                self._wake.set()

    def _ended(self, job_id: int, status: str | None) -> None:
        if status != "dead" or self.on_dead is None:
            return
        try:
            self.on_dead(job_id)
        except Exception:  # the queue's state is recorded; this is follow-up bookkeeping
            log.exception("job %d: cannot record that it is dead", job_id)
