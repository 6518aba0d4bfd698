"""Compaction of ``term_df``, the sharded document frequencies (migration 8).

Writers add their changes to the row of one shard per lexeme, so deleting chunks leaves rows
behind whose shards sum to zero (or a negative row beside a positive one) where the lexeme is
gone or rarer. Compaction folds such groups: the rows of a lexeme this transaction could lock
are replaced by one row holding their sum, or by none where the sum is zero.

Only groups holding a row at or below zero are looked at (only deletes and edits make those), a
bounded batch per transaction. Rows are taken with ``SKIP LOCKED``: compaction never waits for
a writer, and a writer waits for it at most one short transaction. Folding any subset of a
lexeme's rows keeps their sum, so readers (which sum the shards in one snapshot) see the same
counts before and after, and rows a writer holds are simply folded on a later pass.
"""

from __future__ import annotations

from typing import Any

from zhiku.store.postgres.db import PgDatabase

BATCH = 2000  # lexemes per transaction

# a plain scan that stops at the limit (DISTINCT would read the whole table first)
_CANDIDATES = "SELECT kb_id, lexeme FROM term_df WHERE df <= 0 LIMIT %s"

_LOCK = """
SELECT t.kb_id, t.lexeme, t.shard, t.df FROM term_df t
JOIN unnest(%s::bigint[], %s::text[]) AS w(kb_id, lexeme)
  ON t.kb_id = w.kb_id AND t.lexeme = w.lexeme
ORDER BY t.kb_id, t.lexeme, t.shard
FOR UPDATE OF t SKIP LOCKED
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
            continue  # nothing to fold here (a writer holds the lexeme's other rows)
        first = 0 if total == 0 else 1
        if total != 0:
            keep.append((kb_id, lexeme, shards[0][0], total))
        delete += [(kb_id, lexeme, shard) for shard, _ in shards[first:]]
    return delete, keep


def compact_batch(db: PgDatabase, batch: int = BATCH) -> tuple[int, int]:
    """Fold up to ``batch`` lexemes in one transaction: ``(candidates, rows deleted)``."""
    with db.pool.connection() as conn, conn.transaction():
        found = conn.execute(_CANDIDATES, (batch,)).fetchall()
        if not found:
            return 0, 0
        pairs = list(dict.fromkeys((int(r[0]), str(r[1])) for r in found))
        kbs = [k for k, _ in pairs]
        words = [w for _, w in pairs]
        rows = [(int(r[0]), str(r[1]), int(r[2]), int(r[3]))
                for r in conn.execute(_LOCK, (kbs, words)).fetchall()]
        delete, keep = fold(rows)
        if delete:
            conn.execute(_DELETE, _columns(delete, 3))
        if keep:
            conn.execute(_SET, _columns(keep, 4))
        return len(found), len(delete)


def compact(db: PgDatabase, batch: int = BATCH, should_stop: Any = None) -> int:
    """Fold every lexeme with a row at or below zero, a batch at a time, until none is left or
    a batch folds nothing (the rest is held by writers: a later pass takes it); the rows
    deleted. ``should_stop()``, when given, ends the loop between batches."""
    removed = 0
    while should_stop is None or not should_stop():
        candidates, deleted = compact_batch(db, batch)
        removed += deleted
        if candidates < batch or deleted == 0:
            break
    return removed


def _columns(rows: list[Any], width: int) -> list[list[Any]]:
    """Rows as ``width`` column lists (one array parameter each)."""
    return [[r[i] for r in rows] for i in range(width)]
