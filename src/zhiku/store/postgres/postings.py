"""BM25 on PostgreSQL from the packed postings of migration 24.

Ranking every candidate from its tsvector reads and unpacks thousands of chunk rows at a
million chunks (the GIN index finds them, but each row's ``tsv`` must be fetched, detoasted and
filtered). The postings hold what BM25 needs of each candidate (its ids, ``tf`` and ``dl``) in
a few rows per query term, so the candidates are scored here, in one pass over arrays.

Those scores are upper bounds, not answers: the postings may still hold deleted chunks, and
chunks whose terms changed beside their new postings (which only adds to a score), and they
know nothing of ``enabled``, filters or readers. So the candidates are taken best bound first,
a batch at a time, and scored exactly by ``fts.bm25_sql`` restricted to their ids (which applies
every condition). Once the ``limit``-th exact score beats the next bound, no later candidate
can enter: the result equals the full query's, scores included. A search whose best bounds
are mostly stale or filtered out falls back to the full query after ``MAX_ROUNDS``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from zhiku.store.postgres.fts import K1, B

SLACK = 16  # candidates past the limit scored in the first round (more for large limits)
MAX_ROUNDS = 4  # rounds of doubling batches before the full query answers instead
_MARGIN = 1e-9  # relative: numpy's and PostgreSQL's logarithms may differ in the last bits

# Document frequencies and corpus size as ``fts.bm25_sql`` takes them, with the postings of the
# query's lexemes. Parameters: the knowledge base ids and lexemes (df), the ids (corpus), the
# ids and lexemes (postings).
POSTINGS_SQL = """
WITH df AS (
    SELECT lexeme COLLATE "C" AS lexeme, sum(df)::float8 AS n FROM term_df
    WHERE kb_id = ANY(?::bigint[]) AND lexeme = ANY(?::text[]) GROUP BY lexeme
),
corpus AS (
    SELECT greatest(sum(chunks), 1)::float8 AS n,
           greatest(sum(terms)::float8 / greatest(sum(chunks), 1), 1) AS avgdl
    FROM chunk_stats WHERE kb_id = ANY(?::bigint[])
)
SELECT df.n, corpus.n, corpus.avgdl, p.ids, p.tfs, p.dls
FROM chunk_postings p JOIN df ON df.lexeme = p.lexeme CROSS JOIN corpus
WHERE p.kb_id = ANY(?::bigint[]) AND p.lexeme = ANY(?::text[])
"""

Exact = Callable[[list[int]], list[tuple[int, float]]]


def bounds(rows: Sequence[Sequence[Any]]) -> tuple[np.ndarray, np.ndarray]:
    """Candidate ids and the upper bounds of their scores, best first (ties by id), from
    ``POSTINGS_SQL``'s rows: the same BM25 as ``fts.bm25_sql``, summed over every posting."""
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    ids = np.concatenate([np.asarray(r[3], dtype=np.int64) for r in rows])
    tf = np.concatenate([np.asarray(r[4], dtype=np.float64) for r in rows])
    dl = np.concatenate([np.asarray(r[5], dtype=np.float64) for r in rows])
    counts = [len(r[3]) for r in rows]
    df = np.repeat(np.array([float(r[0]) for r in rows]), counts)
    n, avgdl = float(rows[0][1]), float(rows[0][2])
    idf = np.maximum(np.log((n - df + 0.5) / (df + 0.5)), 1e-6)
    scores = idf * tf * (K1 + 1) / (tf + K1 * ((1 - B) + B * dl / avgdl))
    unique, inverse = np.unique(ids, return_inverse=True)
    sums = np.bincount(inverse, weights=scores, minlength=len(unique))
    order = np.lexsort((unique, -sums))
    return unique[order], sums[order]


def rank(candidates: np.ndarray, upper: np.ndarray, limit: int, exact: Exact,
         first_batch: int | None = None) -> list[tuple[int, float]] | None:
    """The best ``limit`` of ``candidates`` by exact score (ties by id), taking them best
    bound first (``first_batch`` of them, by default the limit and a quarter more, at least
    ``SLACK`` more; then twice as many each round); None when ``MAX_ROUNDS`` did not settle it
    (the caller runs the full query)."""
    found: list[tuple[int, float]] = []
    start, batch = 0, first_batch or limit + max(SLACK, limit // 4)
    for _ in range(MAX_ROUNDS):
        if start >= len(candidates):
            break
        found.extend(exact([int(i) for i in candidates[start:start + batch]]))
        start += batch
        batch *= 2
        found.sort(key=lambda hit: (-hit[1], hit[0]))
        if start >= len(candidates):
            break
        if len(found) >= limit and upper[start] * (1 + _MARGIN) < found[limit - 1][1]:
            return found[:limit]
    else:
        if start < len(candidates):
            return None
    return found[:limit]
