"""Merging ``chunk_postings`` (migration 24): each statement that writes chunks adds one fresh
row per lexeme, and a search reads every row of its lexemes, so fresh rows are folded into
blocks of up to ``BLOCK`` postings in the background.

A merge takes a lexeme's fresh rows and its one partial block, drops the postings of chunks
that no longer exist, and writes the rest back as full blocks plus one partial block. Full
blocks are left alone, so a frequent lexeme costs a merge its tail, not its whole list. When a
lexeme's rows hold many more postings than it has live chunks (deleted chunks inside full
blocks, or the old postings of chunks whose terms changed), the lexeme is rebuilt from the
chunks themselves instead.

Nothing here changes what a search returns: postings only bound scores (``postings.py``), and
a merge keeps every posting of a live chunk. One process merges at a time (an advisory lock);
writers never wait for it, and rows written meanwhile are merged by a later sweep. A sweep
walks the fresh lexemes in key order, a bounded batch per transaction, and resumes from its
cursor.
"""

from __future__ import annotations

from zhiku.store.migrations.m024_postings import BLOCK
from zhiku.store.postgres.db import PgDatabase
from zhiku.store.postgres.fts import quote
from zhiku.store.postgres.sweep import Sweep

BATCH = 500  # lexemes per transaction
_LOCK = 0x7A68706D67  # one merging process per database
REBUILD_RATIO = 1.5  # rebuild a lexeme holding more than this many postings per live chunk

# The next fresh lexemes in key order after the cursor (the partial index on fresh rows).
_NEXT = """
SELECT kb_id, lexeme FROM chunk_postings
WHERE fresh AND (kb_id, lexeme) > (%s, %s)
GROUP BY kb_id, lexeme ORDER BY kb_id, lexeme LIMIT %s
"""

# Of the given lexemes, those whose rows hold many more postings than they have live chunks.
_BLOATED = f"""
SELECT g.k, g.l FROM unnest(%s::bigint[], %s::text[]) AS g(k, l)
WHERE (SELECT sum(p.n) FROM chunk_postings p WHERE p.kb_id = g.k AND p.lexeme = g.l)
    > {REBUILD_RATIO} * (SELECT coalesce(sum(t.df), 0) FROM term_df t
                         WHERE t.kb_id = g.k AND t.lexeme = g.l) + %s
"""

_ROWS = """
SELECT kb_id, lexeme, nextval('chunk_postings_seg'), count(*)::int, false,
       array_agg(id ORDER BY id), array_agg(tf ORDER BY id), array_agg(dl ORDER BY id)
FROM numbered GROUP BY kb_id, lexeme, id_block
"""
_INSERT = "INSERT INTO chunk_postings (kb_id, lexeme, seg, n, fresh, ids, tfs, dls)"
_NUMBERED = "(row_number() OVER (PARTITION BY kb_id, lexeme ORDER BY id) - 1) / %s AS id_block"

# The lexemes' fresh rows and partial blocks, replaced by full blocks and one partial block of
# the postings of live chunks. Parameters: the lexemes (kb ids, lexemes), the block size twice.
_MERGE = f"""
WITH picked AS MATERIALIZED (
    SELECT p.kb_id, p.lexeme, p.seg, p.ids, p.tfs, p.dls
    FROM chunk_postings p
    JOIN unnest(%s::bigint[], %s::text[]) AS g(k, l) ON p.kb_id = g.k AND p.lexeme = g.l
    WHERE p.fresh OR p.n < %s
    FOR UPDATE OF p SKIP LOCKED
),
gone AS (
    DELETE FROM chunk_postings p USING picked x
    WHERE p.kb_id = x.kb_id AND p.lexeme = x.lexeme AND p.seg = x.seg
),
numbered AS (
    SELECT x.kb_id, x.lexeme, u.id, u.tf, u.dl, {_NUMBERED}
    FROM picked x, unnest(x.ids, x.tfs, x.dls) AS u(id, tf, dl)
    WHERE EXISTS (SELECT 1 FROM chunks c WHERE c.id = u.id)
)
{_INSERT}{_ROWS}
"""

# One lexeme's rows replaced by its postings as the chunks hold them now. Parameters: the kb
# id and lexeme (delete), the block size, the lexeme (as text, as an array, as a tsquery), the
# kb id.
_REBUILD = f"""
WITH gone AS (
    DELETE FROM chunk_postings WHERE kb_id = %s AND lexeme = %s
),
numbered AS (
    SELECT kb_id, lexeme, id, tf, dl, {_NUMBERED} FROM (
        SELECT c.kb_id, %s::text COLLATE "C" AS lexeme, c.id,
               least(cardinality(u.positions), 32767)::smallint AS tf, c.term_count AS dl
        FROM chunks c
        CROSS JOIN LATERAL unnest(ts_filter(setweight(c.tsv, 'A', %s::text[]), '{{a}}')) u
        WHERE c.tsv @@ %s::tsquery AND c.kb_id = %s
    ) x
)
{_INSERT}{_ROWS}
"""

Cursor = tuple[int, str]
START: Cursor = (-1, "")


def merge_batch(db: PgDatabase, after: Cursor = START, batch: int = BATCH, block: int = BLOCK
                ) -> tuple[Cursor | None, int]:
    """Merge the next ``batch`` fresh lexemes after ``after`` in one transaction, into rows of
    up to ``block`` postings: the cursor to resume from (None at the end) and the lexemes
    merged; ``(after, 0)`` while another process is merging."""
    with db.pool.connection() as conn, conn.transaction():
        got = conn.execute("SELECT pg_try_advisory_xact_lock(%s)", (_LOCK,)).fetchone()
        if not got or not got[0]:
            return after, 0
        keys = [(int(r[0]), str(r[1]))
                for r in conn.execute(_NEXT, (after[0], after[1], batch)).fetchall()]
        if not keys:
            return None, 0
        kbs, words = [k for k, _ in keys], [w for _, w in keys]
        bloated = {(int(r[0]), str(r[1]))
                   for r in conn.execute(_BLOATED, (kbs, words, block))}
        merge = [k for k in keys if k not in bloated]
        if merge:
            conn.execute(_MERGE, ([k for k, _ in merge], [w for _, w in merge], block, block))
        for kb_id, word in sorted(bloated):
            conn.execute(_REBUILD, (kb_id, word, block, word, [word], quote(word), kb_id))
    return (keys[-1] if len(keys) == batch else None), len(keys)


def new_sweep(batch: int = BATCH, block: int = BLOCK) -> Sweep:
    """One pass over the fresh lexemes in key order (``total``: the lexemes merged)."""
    return Sweep(lambda db, cursor: merge_batch(db, cursor, batch, block), START)


def merge_all(db: PgDatabase, batch: int = BATCH, block: int = BLOCK) -> int:
    """Merge every fresh lexeme (one whole sweep); the lexemes merged."""
    return new_sweep(batch, block).finish(db)
