"""Background jobs: a queue in the database (``queue``) and the worker threads (``runner``).

The same code serves the embedded default (one SQLite file, worker threads inside
``zhiku serve``) and server mode (PostgreSQL, any number of ``zhiku worker`` processes).
"""

from zhiku.jobs.queue import Job, JobQueue, QueueOptions
from zhiku.jobs.runner import Control, Handler, Interrupted, Outcome, Runner

__all__ = [
    "Control",
    "Handler",
    "Interrupted",
    "Job",
    "JobQueue",
    "Outcome",
    "QueueOptions",
    "Runner",
]
