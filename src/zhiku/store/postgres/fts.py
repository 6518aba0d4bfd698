"""Full text on PostgreSQL: the analyzer's terms as tsvectors and tsqueries, ranked by BM25.

The terms come pre-tokenized from ``zhiku.text.tokenize.analyze`` (the same analyzer as the
SQLite backend); PostgreSQL's own parsers and dictionaries are never used. Each chunk's
``tsv`` holds every distinct term with the positions it occurs at, so a term's frequency in the
chunk is its number of positions. A search takes its candidates from the GIN index (``@@``, any
query term), keeps only the query terms of each candidate (``setweight`` + ``ts_filter``)
and scores them with FTS5's BM25 (k1 = 1.2, b = 0.75, the same IDF floor), with document
frequencies from ``term_df`` and N and the average length from ``chunk_stats``, which the
chunks' triggers keep (migrations 1 and 8). The
statistics are those of the knowledge bases searched (FTS5's span its whole table: on one
knowledge base, scores are equal), so one tenant's corpus never shifts another's ranking.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

_PIECE = re.compile(r"[^\W_]+")
MAX_LEXEME_BYTES = 2046  # PostgreSQL's limit on one lexeme
MAX_POSITION = 16383  # larger positions are stored as this one

K1 = 1.2
B = 0.75


def lexemes(terms: Iterable[str]) -> list[str]:
    """Terms as SQLite's FTS5 ``unicode61`` tokenizer indexes them: lower case, split at
    characters that are neither letters nor digits; pieces too long to index are dropped."""
    out: list[str] = []
    for term in terms:
        for piece in _PIECE.findall(term.lower()):
            if len(piece) * 4 <= MAX_LEXEME_BYTES or len(piece.encode()) <= MAX_LEXEME_BYTES:
                out.append(piece)
    return out


def quote(lexeme: str) -> str:
    """A lexeme as a quoted tsvector/tsquery token."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def tsvector_literal(terms: Sequence[str]) -> tuple[str, int]:
    """The text form of a chunk's tsvector (each lexeme with its positions) and its length in
    terms (BM25's document length)."""
    words = lexemes(terms)
    positions: dict[str, list[str]] = {}
    for n, word in enumerate(words, start=1):
        positions.setdefault(word, []).append(str(min(n, MAX_POSITION)))
    return " ".join(f"{quote(w)}:{','.join(p)}" for w, p in positions.items()), len(words)


def query_lexemes(terms: Sequence[str]) -> list[str]:
    """The distinct lexemes of query terms, in order."""
    return list(dict.fromkeys(lexemes(terms)))


def tsquery_literal(words: Sequence[str]) -> str:
    """A tsquery matching any of ``words`` (lexemes, matched literally)."""
    return " | ".join(quote(w) for w in words)


# The candidates (enabled chunks holding any query term, kept by the filter when there is one)
# with their query terms' positions; document frequencies from ``term_df`` (per knowledge base,
# every indexed chunk: filters never change a chunk's score); N and the average length from
# ``chunk_stats``. Each score sums its terms in lexeme order, so the same data gives the same
# bits whatever join order the planner picks (processes with different plans agree).
# Parameters: the lexemes (text[]), the tsquery, the knowledge base ids (bigint[]), the
# filter's, the knowledge base ids and lexemes again (df), the ids (corpus), the limit.
_BM25 = f"""
WITH cand AS MATERIALIZED (
    SELECT c.id, c.term_count AS dl, ts_filter(setweight(c.tsv, 'A', ?::text[]), '{{a}}') AS hits
    FROM chunks c {{join}}
    WHERE c.tsv @@ ?::tsquery AND c.kb_id = ANY(?::bigint[]) AND c.enabled = 1{{where}}
),
df AS (
    SELECT lexeme, sum(df)::float8 AS n FROM term_df
    WHERE kb_id = ANY(?::bigint[]) AND lexeme = ANY(?::text[]) GROUP BY lexeme
),
corpus AS (
    SELECT greatest(sum(chunks), 1)::float8 AS n,
           greatest(sum(terms)::float8 / greatest(sum(chunks), 1), 1) AS avgdl
    FROM chunk_stats WHERE kb_id = ANY(?::bigint[])
)
SELECT cand.id, sum(
    greatest(ln((corpus.n - df.n + 0.5) / (df.n + 0.5)), 1e-6)
    * cardinality(u.positions) * {K1 + 1}
    / (cardinality(u.positions) + {K1} * ({1 - B} + {B} * cand.dl / corpus.avgdl))
    ORDER BY u.lexeme
) AS score
FROM cand CROSS JOIN LATERAL unnest(cand.hits) u JOIN df ON df.lexeme = u.lexeme
CROSS JOIN corpus
GROUP BY cand.id
ORDER BY score DESC, cand.id
LIMIT ?
"""


def bm25_sql(where: str | None, *, by_ids: bool = False) -> str:
    """The ranking query (parameters above), its candidates restricted by ``where`` (a
    condition over the documents alias ``d``, its parameters after the knowledge base ids) when
    given. ``by_ids`` scores only the chunks of an id array, looked up by primary key (its
    parameter comes after the lexemes)."""
    sql = _BM25.replace(
        "FROM chunks c", "FROM unnest(?::bigint[]) AS w(id) JOIN chunks c ON c.id = w.id"
    ) if by_ids else _BM25
    if where is None:
        return sql.replace("{join}", "").replace("{where}", "")
    return sql.replace("{join}", "JOIN documents d ON d.id = c.document_id").replace(
        "{where}", f" AND ({where})"
    )


# Document frequencies over every knowledge base, from the counts the chunks' triggers keep
# (migration 8). Parameter: the lexemes.
DOC_FREQ_SQL = """
SELECT t.lexeme, sum(t.df)
FROM knowledge_bases k JOIN term_df t ON t.kb_id = k.id AND t.lexeme = ANY(?::text[])
GROUP BY t.lexeme
HAVING sum(t.df) > 0
"""

# The indexed terms of chunks, in order. Parameter: the chunk ids.
CHUNK_TERMS_SQL = """
SELECT c.id, coalesce(array_agg(u.lexeme ORDER BY p) FILTER (WHERE u.lexeme IS NOT NULL),
                      '{}') AS terms
FROM chunks c
LEFT JOIN LATERAL unnest(c.tsv) u ON true
LEFT JOIN LATERAL unnest(u.positions) p ON true
WHERE c.id = ANY(?::bigint[]) AND c.tsv IS NOT NULL
GROUP BY c.id
"""
