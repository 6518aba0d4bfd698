"""Keyword postings on a real PostgreSQL: a search through the postings returns what the full
BM25 query over every candidate's tsvector returns, ids and scores, whatever the postings still
hold (deleted chunks, old terms of edited chunks, disabled chunks, filtered documents); merges
fold fresh rows into blocks and drop deleted chunks; a lexeme whose postings outgrew its live
chunks is rebuilt from the chunks."""

from __future__ import annotations

import random

import numpy as np
import pytest
from store_conformance import MODEL, put

from zhiku.store.filters import SearchFilters
from zhiku.store.postgres import fts, postings, postings_merge
from zhiku.store.postgres.filtersql import filter_sql
from zhiku.store.postgres.store import PostgresStore
from zhiku.text.tokenize import query_terms

pytestmark = pytest.mark.backend("postgres")

WORDS = ("orchard cider apples pears zebras giraffes quokkas island autumn harvest press "
         "barrel cellar market farmer 苹果 果园 收获 市场 农民").split()
QUERIES = ["orchard cider", "pears autumn harvest", "giraffes zebras quokkas", "苹果 果园",
           "market farmer barrel", "island"]


def new_kb(store: PostgresStore, name: str) -> int:
    return int(store.create_kb(store.workspace_id("default", create=True), name, MODEL, {}).id)


def corpus(store: PostgresStore, kb: int, docs: int, seed: int = 0) -> dict[str, int]:
    """Documents of random sentences over WORDS (repeats give term frequencies above one)."""
    rng = random.Random(seed)
    ids = {}
    for n in range(docs):
        texts = [" ".join(rng.choices(WORDS, k=rng.randint(3, 14))) for _ in range(3)]
        ids[f"/d{n}.txt"] = put(store, kb, f"/d{n}.txt", texts,
                                metadata={"part": n % 5})[0].id
    return ids


def full_query(store: PostgresStore, kb: int, query: str, limit: int,
               filters: SearchFilters | None = None) -> list[tuple[int, float]]:
    """The ranking over every candidate's tsvector, without the postings."""
    words = fts.query_lexemes(query_terms(query))
    where, params = filter_sql(filters)
    condition = None if filters is None or filters.is_empty() else where
    rows = store.db.conn.execute(
        fts.bm25_sql(condition),
        [words, fts.tsquery_literal(words), [kb], *params, [kb], words, [kb], limit])
    return [(int(r[0]), float(r[1])) for r in rows]


def assert_same(store: PostgresStore, kb: int, filters: SearchFilters | None = None) -> None:
    for query in QUERIES:
        for limit in (1, 5, 40):
            got = store.keyword_search([kb], query_terms(query), limit, filters)
            assert got == full_query(store, kb, query, limit, filters), (query, limit)


def posting_rows(store: PostgresStore, kb: int) -> list[tuple[str, bool, list[int]]]:
    return [(str(r[0]), bool(r[1]), list(r[2])) for r in store.db.conn.execute(
        "SELECT lexeme, fresh, ids FROM chunk_postings WHERE kb_id = ? ORDER BY lexeme, seg",
        (kb,))]


def truth(store: PostgresStore, kb: int) -> dict[str, list[int]]:
    """Each lexeme's chunk ids as the chunks hold them."""
    rows = store.db.conn.execute(
        "SELECT u.lexeme, array_agg(c.id ORDER BY c.id) FROM chunks c, unnest(c.tsv) u "
        "WHERE c.kb_id = ? GROUP BY u.lexeme", (kb,))
    return {str(r[0]): list(r[1]) for r in rows}


def held(store: PostgresStore, kb: int) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for lexeme, _, ids in posting_rows(store, kb):
        out.setdefault(lexeme, []).extend(ids)
    return {k: sorted(v) for k, v in out.items()}


def test_postings_give_the_full_querys_ranking_through_deletes_edits_and_merges(
    pg_store: PostgresStore,
) -> None:
    kb = new_kb(pg_store, "orchard")
    docs = corpus(pg_store, kb, 40)
    assert held(pg_store, kb) == truth(pg_store, kb)  # fresh rows, one per lexeme and write
    assert_same(pg_store, kb)

    for source in list(docs)[:10]:  # deleted chunks stay in the postings until a merge
        pg_store.delete_document(docs.pop(source))
    chunks = [c.id for c in pg_store.list_chunks(docs["/d20.txt"])]
    pg_store.set_chunk_enabled(chunks[0], False)
    pg_store.set_chunk_terms({chunks[1]: query_terms("quokkas quokkas quokkas island")})
    assert set(held(pg_store, kb)) >= set(truth(pg_store, kb))
    assert_same(pg_store, kb)
    assert_same(pg_store, kb, SearchFilters(metadata={"part": 3}))

    merged = postings_merge.merge_all(pg_store.db)

    assert merged > 0
    rows = posting_rows(pg_store, kb)
    assert not any(fresh for _, fresh, _ in rows)
    assert all(len(ids) <= postings_merge.BLOCK for _, _, ids in rows)
    live = truth(pg_store, kb)
    now = held(pg_store, kb)
    alive = {i for ids in live.values() for i in ids}
    assert {i for ids in now.values() for i in ids} == alive  # deleted chunks are gone
    for lexeme, ids in live.items():
        assert set(ids) <= set(now[lexeme])  # only an edited chunk's old terms may remain
    assert_same(pg_store, kb)
    assert_same(pg_store, kb, SearchFilters(metadata={"part": [1, 2]}))


def test_merges_make_full_blocks_and_keep_scores(pg_store: PostgresStore) -> None:
    kb = new_kb(pg_store, "blocks")
    corpus(pg_store, kb, 30, seed=1)
    postings_merge.merge_all(pg_store.db, batch=3, block=8)  # small blocks, many batches
    corpus(pg_store, kb, 5, seed=2)  # replaces five documents: new fresh rows
    postings_merge.merge_all(pg_store.db, batch=3, block=8)

    rows = posting_rows(pg_store, kb)
    by_lexeme: dict[str, list[int]] = {}
    for lexeme, fresh, ids in rows:
        assert not fresh and ids == sorted(ids)
        by_lexeme.setdefault(lexeme, []).append(len(ids))
    assert all(sum(1 for n in sizes if n < 8) <= 1 for sizes in by_lexeme.values())
    assert any(len(sizes) > 1 for sizes in by_lexeme.values())
    live, now = truth(pg_store, kb), held(pg_store, kb)
    alive = {i for ids in live.values() for i in ids}
    for lexeme, ids in now.items():  # full blocks keep the replaced documents' chunks
        assert sorted(set(ids) & alive) == live.get(lexeme, [])
    assert_same(pg_store, kb)


def test_a_reanalysed_corpus_is_rebuilt_from_its_chunks(pg_store: PostgresStore) -> None:
    kb = new_kb(pg_store, "reanalysed")
    corpus(pg_store, kb, 60, seed=3)
    postings_merge.merge_all(pg_store.db, block=8)
    ids = [int(r[0]) for r in pg_store.db.conn.execute(
        "SELECT id FROM chunks WHERE kb_id = ? ORDER BY id", (kb,))]
    rng = random.Random(4)
    pg_store.set_chunk_terms({i: query_terms(" ".join(rng.choices(WORDS[:8], k=4))) for i in ids})
    assert_same(pg_store, kb)  # old and new postings side by side: bounds, not scores
    before, live = held(pg_store, kb), truth(pg_store, kb)
    bloated = {w for w, ids in before.items()
               if len(ids) > postings_merge.REBUILD_RATIO * len(live.get(w, [])) + 8}
    assert bloated

    postings_merge.merge_all(pg_store.db, block=8)

    now = held(pg_store, kb)
    for lexeme in bloated:  # rebuilt from the chunks: exactly what they hold
        assert now.get(lexeme, []) == live.get(lexeme, [])
    for lexeme, chunk_ids in live.items():
        assert set(chunk_ids) <= set(now[lexeme])
    assert_same(pg_store, kb)


def test_a_deleted_knowledge_base_takes_its_postings(pg_store: PostgresStore) -> None:
    kb, other = new_kb(pg_store, "gone"), new_kb(pg_store, "stays")
    corpus(pg_store, kb, 5)
    corpus(pg_store, other, 5)
    pg_store.delete_kb(kb)
    assert posting_rows(pg_store, kb) == []
    assert held(pg_store, other) == truth(pg_store, other)


def test_rank_stops_once_no_bound_can_beat_the_last_kept_score() -> None:
    exact = {1: 5.0, 2: 4.0, 3: 3.5, 4: 1.0, 5: 0.5}  # 6 and 7 are gone (deleted chunks)
    exact |= {i: 0.05 for i in range(100, 120)}
    candidates = np.array([6, 1, 7, 2, 3, 4, 5, *range(100, 120)])
    upper = np.array([9.0, 5.0, 4.5, 4.0, 3.5, 1.0, 0.5, *[0.1] * 20])
    asked: list[list[int]] = []

    def score(ids: list[int]) -> list[tuple[int, float]]:
        asked.append(ids)
        return [(i, exact[i]) for i in ids if i in exact]

    for first in (1, 2, 3):
        asked.clear()
        assert postings.rank(candidates, upper, 2, score, first) == [(1, 5.0), (2, 4.0)]
        assert sum(map(len, asked)) <= 9  # the tail of low bounds is never scored
    assert postings.rank(candidates, upper, 5, score) == sorted(
        exact.items(), key=lambda kv: -kv[1])[:5]
    # ties are broken by id, as the full query does: 9 (bound 4.0) must be scored before
    # the limit-th score 4.0 can be kept
    for order in ([2, 9], [9, 2]):
        assert postings.rank(np.array(order), np.array([4.0, 4.0]), 1,
                             lambda ids: [(i, 4.0) for i in ids], 1) == [(2, 4.0)]
    # more rounds than MAX_ROUNDS without settling: the caller's full query answers
    many = np.arange(1, 100)
    assert postings.rank(many, np.full(99, 2.0), 1, lambda ids: [], 1) is None
