"""A PostgreSQL process's background upkeep: one daemon thread that warms the shared buffers
when the process starts and again after the server restarted (``prewarm.py``), and after chunks
were written, deleted or edited sweeps ``term_df`` (``term_df.py``), folding each lexeme's shard
rows into one and dropping those that sum to zero, and merges the fresh rows of
``chunk_postings`` into blocks (``postings_merge.py``).

Start-up never waits for it, and none of its failures reach the process: a warm-up or a
compaction that fails is logged and tried again at a later round. Rounds run every
``interval`` seconds: each asks the server when it started (a restart empties the buffers) and
how many chunk rows were written (from the statistics collector), and acts only on a change, so
an idle round costs one small query. A sweep spends at most ``SWEEP_SECONDS`` a round and
resumes where it stopped. While writers are busy a merge takes one step per ``interval``
(merging a bulk load as it arrives would rewrite each lexeme's last block again and again, and
take the writers' CPU); once a round sees no new writes, rounds follow each other after
``BUSY_PAUSE`` until the merge is done. The ``term_df`` sweep takes one step per ``interval``.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from zhiku.store.postgres import postings_merge, term_df
from zhiku.store.postgres.db import PgDatabase
from zhiku.store.postgres.prewarm import WarmReport, warm
from zhiku.store.postgres.sweep import Sweep

log = logging.getLogger(__name__)

SWEEP_SECONDS = 0.5
BUSY_PAUSE = 1.0
_UNSEEN = object()
_STATE = """
SELECT pg_postmaster_start_time()::text,
       (SELECT n_tup_ins + n_tup_del + n_tup_upd FROM pg_stat_user_tables
        WHERE relid = to_regclass('chunks'))
"""


class Upkeep:
    """Warm-ups, ``term_df`` compaction and postings merges in one background thread (see the
    module)."""

    def __init__(
        self, db: PgDatabase, *, prewarm: bool, prewarm_max_bytes: int, interval: float = 30.0
    ) -> None:
        self._db = db
        self.prewarm = prewarm
        self.prewarm_max_bytes = prewarm_max_bytes
        self.interval = interval
        self.last_warm: WarmReport | None = None
        self.compacted = 0  # term_df rows removed by this process
        self.sweeps = 0  # whole sweeps of term_df finished
        self._sweep: Sweep | None = None
        self.merged = 0  # postings lexemes merged by this process
        self._merge: Sweep | None = None
        self._sweep_due = self._merge_due = False
        self._sweep_next = 0.0  # monotonic time of the next term_df step
        self._writing = True  # chunks were written since the round before
        self.rounds = threading.Event()  # set after each round (tests and benchmarks wait on it)
        self._started_at: str | None = None
        self._changes: Any = _UNSEEN
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread (its first round warms and compacts at once)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="zhiku-pg-upkeep", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread (a warm-up in progress finishes its current relation first)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stopping.is_set():
            self.round()
            self.rounds.set()
            self._stopping.wait(self.next_wait())

    def next_wait(self) -> float:
        """Seconds until the next round: ``BUSY_PAUSE`` while a merge is unfinished and the
        last round saw no new writes, else ``interval``."""
        hurry = self._merge is not None and not self._writing
        return BUSY_PAUSE if hurry else self.interval

    def round(self) -> None:
        """One round: warm after a (re)start; after chunk writes, sweep term_df and merge
        postings."""
        try:
            row = self._db.conn.execute(_STATE).fetchone()
        except Exception as exc:  # the server is down or restarting: try at the next round
            log.warning("PostgreSQL upkeep: cannot reach the server (%s)", exc)
            return
        started_at, changes = (str(row[0]), row[1]) if row else (None, None)
        if self.prewarm and started_at != self._started_at and self._warm():
            self._started_at = started_at
        self._writing = changes != self._changes
        if self._writing:  # a sweep under way ends, then another follows
            self._changes = changes
            self._sweep_due = self._merge_due = True
        if self._sweep is None and self._sweep_due:
            self._sweep, self._sweep_due = term_df.new_sweep(), False
        if self._merge is None and self._merge_due:
            self._merge, self._merge_due = postings_merge.new_sweep(), False
        if self._sweep is not None and time.monotonic() >= self._sweep_next:
            self._compact(self._sweep)  # a step per interval, even while merges speed rounds up
            self._sweep_next = time.monotonic() + self.interval
        if self._merge is not None:
            self._merge_postings(self._merge)

    def _advance(self, sweep: Sweep, what: str) -> int | None:
        """A round's share of ``sweep``: what it did, or None when it failed (logged; the
        next round starts it over)."""
        try:
            return sweep.step(self._db, SWEEP_SECONDS, self._stopping.is_set)
        except Exception:
            log.exception("PostgreSQL upkeep: %s failed", what)
            self._changes = _UNSEEN
            return None

    def _compact(self, sweep: Sweep) -> None:
        """A round's share of the term_df sweep."""
        did = self._advance(sweep, "term_df compaction")
        self.compacted += did or 0
        if did is None or sweep.done:
            self._sweep = None
        if did is not None and sweep.done:
            self.sweeps += 1
            if sweep.total:
                log.info("term_df: %d shard rows folded away", sweep.total)

    def _merge_postings(self, sweep: Sweep) -> None:
        """A round's share of the postings merge."""
        did = self._advance(sweep, "merging postings")
        self.merged += did or 0
        if did is None or sweep.done:
            self._merge = None

    def _warm(self) -> bool:
        """One warm-up unless another process is warming; whether it ran or was not needed."""
        try:
            report = warm(self._db, self.prewarm_max_bytes)
        except Exception:
            log.exception("PostgreSQL upkeep: warming the buffers failed")
            return False
        if report is None:
            return True  # another process loads the same server's buffers
        self.last_warm = report
        log.info("PostgreSQL buffers warmed by %s: %.1f MB in %.1f s (%d relations)",
                 report.method, report.mb, report.seconds, len(report.blocks))
        return True
