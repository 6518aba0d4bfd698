"""The background jobs of one process: worker threads inside ``zhiku serve`` (the embedded
default) or a ``zhiku worker`` process (server mode; ``ZHIKU_API_RUN_JOBS=false`` on the
servers), all claiming from the one queue in the database."""

from __future__ import annotations

from zhiku.core.settings import Settings
from zhiku.ingest.fetch import Fetcher, url_fetcher
from zhiku.jobs.handlers import JobHandler
from zhiku.jobs.queue import Job, JobQueue, QueueOptions, worker_name
from zhiku.jobs.runner import Runner
from zhiku.runtime import Runtime
from zhiku.store.db import Database


class Jobs:
    """The queue, what its jobs do, and optionally worker threads running them here."""

    def __init__(
        self,
        db: Database,
        runtime: Runtime,
        fetcher: Fetcher,
        options: QueueOptions | None = None,
        schedule_seconds: float = 0.0,
    ) -> None:
        from zhiku.connectors.schedule import Scheduler

        self.queue = JobQueue(db, options)
        self.handler = JobHandler(db, runtime, fetcher)
        self._runner: Runner | None = None
        self._scheduler = Scheduler(db, self.queue.enqueue, schedule_seconds, self.wake)
        runtime.on_job_queued = self.wake

    @classmethod
    def of(cls, settings: Settings, db: Database, runtime: Runtime,
           threads: int | None = None) -> Jobs:
        """The jobs ``settings`` configure (``threads``: job threads of this process)."""
        return cls(db, runtime, url_fetcher(settings), QueueOptions.of(settings, threads),
                   settings.sources_schedule_seconds)

    def counts(self) -> dict[str, int]:
        """How many jobs are in each status."""
        return self.queue.counts()

    @property
    def running(self) -> bool:
        """Whether this process's worker threads are alive."""
        return self._runner is not None and self._runner.running

    @property
    def healthy(self) -> bool:
        """True unless this process should run jobs and its worker has stopped."""
        return self._runner is None or self._runner.running

    def start(self, concurrency: int = 1, label: str = "serve") -> Runner:
        """Requeue jobs orphaned by dead workers and start worker threads here, and the thread
        that queues scheduled source syncs when they are due."""
        self._runner = Runner(self.queue, self.handler, concurrency=concurrency, label=label,
                              on_dead=self.handler.dead)
        self._runner.start()
        self._scheduler.start()
        return self._runner

    def run_here(self, job_id: int, label: str = "cli") -> Job | None:
        """Claim queued job ``job_id`` and run it in this thread (its lease renewed meanwhile);
        the job as it ended, or None when another worker had taken it."""
        job = self.queue.claim_job(job_id, worker_name(0, label))
        if job is None:
            return None
        runner = Runner(self.queue, self.handler, concurrency=0, label=label,
                        on_dead=self.handler.dead)
        runner.start()
        try:
            runner.execute(job)
        finally:
            runner.stop()
        return self.queue.get(job_id)

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop the worker threads; running jobs hand the rest of their work back."""
        self._scheduler.stop()
        if self._runner is None:
            return True
        stopped = self._runner.stop(timeout)
        self._runner = None
        return stopped

    def wake(self) -> None:
        """A job was queued in this process: the worker threads look now."""
        if self._runner is not None:
            self._runner.wake()
