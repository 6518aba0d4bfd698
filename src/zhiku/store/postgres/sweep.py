"""A resumable pass over a table in key order: one bounded batch per transaction, a few
batches per call, resumed from a cursor (``term_df.py``'s compaction, ``postings_merge.py``'s
merges, both run by the upkeep thread)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from zhiku.store.postgres.db import PgDatabase

# One batch after a cursor: the cursor to resume from (None at the end) and what it did (rows
# or lexemes); the same cursor with 0 when nothing could be taken now.
Batch = Callable[[PgDatabase, Any], tuple[Any, int]]


class Sweep:
    """One pass, taken a few batches at a time."""

    def __init__(self, batch: Batch, start: Any) -> None:
        self._batch = batch
        self.cursor: Any = start
        self.total = 0  # what the batches did, summed

    @property
    def done(self) -> bool:
        """Whether the pass reached the end of the table."""
        return self.cursor is None

    def step(self, db: PgDatabase, seconds: float, should_stop: Callable[[], bool] | None = None
             ) -> int:
        """Run batches for about ``seconds`` (at least one), until the end of the table,
        ``should_stop()`` or a batch that could take nothing; what they did."""
        deadline = time.monotonic() + seconds
        did = 0
        while self.cursor is not None:
            cursor, n = self._batch(db, self.cursor)
            if n == 0 and cursor == self.cursor:
                break  # held elsewhere: try at a later round
            self.cursor = cursor
            did += n
            if time.monotonic() >= deadline or (should_stop is not None and should_stop()):
                break
        self.total += did
        return did

    def finish(self, db: PgDatabase) -> int:
        """Run the rest of the pass, waiting out batches held elsewhere; what the whole pass
        did."""
        while not self.done:
            if self.step(db, 3600.0) == 0 and not self.done:
                time.sleep(0.05)
        return self.total
