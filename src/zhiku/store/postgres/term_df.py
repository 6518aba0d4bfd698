"""Compaction of ``term_df``, the sharded document frequencies (migration 8).

Writers add their changes to the row of one shard per lexeme, so a lexeme gathers up to 16
rows, and deleting chunks leaves rows behind whose shards sum to zero (or a negative row beside
a positive one) where the lexeme is gone or rarer. Compaction folds each lexeme's rows: the
rows a transaction could lock are replaced by one row holding their sum (in the lowest shard),
or by none where the sum is zero.

A sweep walks the table in key order, a bounded batch per transaction, and can stop after any
batch and resume from its cursor. Rows are taken with ``SKIP LOCKED``: compaction never waits
for a writer, and a writer waits for it at most one short transaction. Folding any subset of a
lexeme's rows keeps their sum, so readers (which sum the shards in one snapshot) see the same
counts before and after, and rows a writer holds are folded by a later sweep.
"""

from __future__ import annotations

from typing import Any

from zhiku.store.postgres.db import PgDatabase
from zhiku.store.postgres.sweep import Sweep

BATCH = 2000  # rows per transaction
MIN_BATCH = 17  # more than one lexeme's rows (16 shards at most)

# The next rows in key order after the cursor (an index range scan).
_NEXT = """
SELECT kb_id, lexeme, shard, df FROM term_df
WHERE (kb_id, lexeme) > (%s, %s)
ORDER BY kb_id, lexeme, shard
LIMIT %s
FOR UPDATE SKIP LOCKED
"""

_DELETE = """
DELETE FROM term_df t USING unnest(%s::bigint[], %s::text[], %s::smallint[]) AS g(k, l, s)
WHERE t.kb_id = g.k AND t.lexeme = g.l AND t.shard = g.s
"""

_SET = """
UPDATE term_df t SET df = g.df
FROM unnest(%s::bigint[], %s::text[], %s::smallint[], %s::bigint[]) AS g(k, l, s, df)
WHERE t.kb_id = g.k AND t.lexeme = g.l AND t.shard = g.s
"""

Cursor = tuple[int, str]
START: Cursor = (-1, "")


def fold(rows: list[tuple[int, str, int, int]]) -> tuple[list[tuple[int, str, int]],
                                                         list[tuple[int, str, int, int]]]:
    """For locked ``(kb_id, lexeme, shard, df)`` rows sorted by key: the rows to delete and
    the rows to set (``df``), so that each lexeme keeps one row with its sum, or none at zero."""
    groups: dict[tuple[int, str], list[tuple[int, int]]] = {}
    for kb_id, lexeme, shard, df in rows:
        groups.setdefault((kb_id, lexeme), []).append((shard, df))
    delete: list[tuple[int, str, int]] = []
    keep: list[tuple[int, str, int, int]] = []
    for (kb_id, lexeme), shards in groups.items():
        total = sum(df for _, df in shards)
        if total != 0 and len(shards) == 1:
            continue  # already one row (a writer may hold the lexeme's others)
        first = 0 if total == 0 else 1
        if total != 0:
            keep.append((kb_id, lexeme, shards[0][0], total))
        delete += [(kb_id, lexeme, shard) for shard, _ in shards[first:]]
    return delete, keep


def compact_batch(
    db: PgDatabase, after: Cursor = START, batch: int = BATCH
) -> tuple[Cursor | None, int]:
    """Fold the lexemes of the next ``batch`` rows after ``after`` in one transaction (all
    rows of each lexeme but those writers hold: the last lexeme of a full batch is left to the
    next): the cursor to resume from (None at the end of the table) and the rows deleted."""
    batch = max(batch, MIN_BATCH)
    with db.pool.connection() as conn, conn.transaction():
        rows = [(int(r[0]), str(r[1]), int(r[2]), int(r[3]))
                for r in conn.execute(_NEXT, (after[0], after[1], batch)).fetchall()]
        cursor: Cursor | None = None
        if len(rows) == batch:  # more follow: the last lexeme may have rows past the limit
            last = (rows[-1][0], rows[-1][1])
            rows = [r for r in rows if (r[0], r[1]) != last]
            cursor = (rows[-1][0], rows[-1][1])
        delete, keep = fold(rows)
        if delete:
            conn.execute(_DELETE, _columns(delete, 3))
        if keep:
            conn.execute(_SET, _columns(keep, 4))
    return cursor, len(delete)


def new_sweep(batch: int = BATCH) -> Sweep:
    """One pass over ``term_df`` in key order (``total``: the rows deleted)."""
    return Sweep(lambda db, cursor: compact_batch(db, cursor, batch), START)


def compact(db: PgDatabase, batch: int = BATCH) -> int:
    """One whole sweep; the rows deleted."""
    return new_sweep(batch).finish(db)


def _columns(rows: list[Any], width: int) -> list[list[Any]]:
    """Rows as ``width`` column lists (one array parameter each)."""
    return [[r[i] for r in rows] for i in range(width)]
