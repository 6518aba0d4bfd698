"""``term_df`` compaction on a real PostgreSQL: after deletes no row at or below zero remains
and each lexeme keeps one row, counts and BM25 scores equal a fresh ingest of what is left, a
sweep resumes from its cursor, and concurrent writers never lose a count."""

from __future__ import annotations

import threading
import time

import pytest
from store_conformance import MODEL, put

from zhiku.store.postgres import term_df
from zhiku.store.postgres.store import PostgresStore
from zhiku.text.tokenize import query_terms

pytestmark = pytest.mark.backend("postgres")

TEXTS = {
    "/a.txt": ["apples and pears grow in the orchard", "the orchard keeper sells cider"],
    "/b.txt": ["zebras graze beside giraffes", "the orchard has no zebras at all"],
    "/c.txt": ["pears ripen late in autumn", "cider from apples and pears"],
    "/d.txt": ["quokkas smile on rottnest island", "giraffes and quokkas are unrelated"],
}
QUERIES = ["orchard cider", "pears", "apples autumn", "giraffes zebras quokkas", "island"]


def new_kb(store: PostgresStore, name: str) -> int:
    return int(store.create_kb(store.workspace_id("default", create=True), name, MODEL, {}).id)


def kept_counts(store: PostgresStore) -> tuple[dict[tuple[int, str], int], int, int]:
    """Kept document frequencies (summed over shards), the rows at or below zero, and the
    lexemes whose shards sum to zero."""
    rows = store.db.conn.execute(
        "SELECT kb_id, lexeme, sum(df), count(*) FILTER (WHERE df <= 0) FROM term_df "
        "GROUP BY kb_id, lexeme").fetchall()
    kept = {(int(r[0]), str(r[1])): int(r[2]) for r in rows if int(r[2]) != 0}
    return kept, sum(int(r[3]) for r in rows), sum(1 for r in rows if int(r[2]) == 0)


def _actual(store: PostgresStore) -> dict[tuple[int, str], int]:
    return {(int(r[0]), str(r[1])): int(r[2]) for r in store.db.conn.execute(
        "SELECT c.kb_id, u.lexeme, count(*) FROM chunks c, unnest(c.tsv) u "
        "GROUP BY c.kb_id, u.lexeme")}


def _ranked(store: PostgresStore, kb_id: int, query: str) -> list[tuple[str, float]]:
    hits = store.keyword_search([kb_id], query_terms(query), 10, None)
    texts = store.get_chunks([cid for cid, _ in hits])
    return [(texts[cid].text, score) for cid, score in hits]


def test_fold_keeps_each_lexemes_sum_in_one_row_or_none() -> None:
    rows = [(1, "a", 0, 2), (1, "a", 5, -2),  # sums to zero: both go
            (1, "b", 3, 0),  # a zero row alone: goes
            (1, "c", 1, 4), (1, "c", 2, -1), (1, "c", 9, 1),  # folds into shard 1
            (1, "d", 7, -1),  # one row (a writer holds the others): left alone
            (2, "a", 4, 3)]  # nothing to fold
    delete, keep = term_df.fold(rows)
    assert sorted(delete) == [(1, "a", 0), (1, "a", 5), (1, "b", 3), (1, "c", 2), (1, "c", 9)]
    assert keep == [(1, "c", 1, 4)]


def test_compaction_after_deletes_leaves_no_zero_rows_and_the_same_scores(
    pg_store: PostgresStore,
) -> None:
    kb = new_kb(pg_store, "shrinking")
    docs = {source: put(pg_store, kb, source, texts)[0] for source, texts in TEXTS.items()}
    for source in ("/b.txt", "/d.txt"):  # each in a transaction (a shard) of its own
        pg_store.delete_document(docs[source].id)
    kept, non_positive, zero = kept_counts(pg_store)
    assert non_positive > 0 and zero > 0  # what deletes leave behind
    before = {q: _ranked(pg_store, kb, q) for q in QUERIES}

    removed = term_df.compact(pg_store.db, batch=term_df.MIN_BATCH)  # a sweep of several batches

    kept_after, non_positive, zero = kept_counts(pg_store)
    assert removed > 0 and non_positive == 0 and zero == 0
    assert kept_after == kept == _actual(pg_store)
    assert pg_store.db.conn.execute(  # one row per lexeme
        "SELECT count(*) FROM term_df GROUP BY kb_id, lexeme HAVING count(*) > 1").fetchall() == []
    assert term_df.compact(pg_store.db) == 0  # nothing left to fold
    fresh = new_kb(pg_store, "fresh")
    for source in ("/a.txt", "/c.txt"):
        put(pg_store, fresh, source, TEXTS[source])
    for q in QUERIES:
        after = _ranked(pg_store, kb, q)
        assert after == before[q] == _ranked(pg_store, fresh, q), q


def test_compaction_never_loses_a_concurrent_writers_count(pg_store: PostgresStore) -> None:
    kb = new_kb(pg_store, "busy")
    words = [f"word{n}" for n in range(40)]
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            k = 0
            while not stop.is_set():
                doc, _ = put(pg_store, kb, f"/w{n}-{k}.txt", [" ".join(words[k % 7::3])])
                if k % 2 == 0:
                    pg_store.delete_document(doc.id)
                k += 1
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 3.0
    while time.monotonic() < deadline:
        term_df.compact(pg_store.db, batch=5)
    stop.set()
    for t in threads:
        t.join()
    assert errors == []
    term_df.compact(pg_store.db)
    kept, non_positive, zero = kept_counts(pg_store)
    assert kept == _actual(pg_store) and non_positive == 0 and zero == 0


def test_a_sweep_resumes_where_it_stopped(pg_store: PostgresStore) -> None:
    kb = new_kb(pg_store, "resumed")
    for n in range(6):  # one transaction (a shard) per document: lexemes of several rows
        put(pg_store, kb, f"/s{n}.txt", ["shared words in every document", f"own{n} alone"])
    rows = pg_store.db.conn.execute("SELECT count(*) FROM term_df").fetchone()[0]
    sweep = term_df.new_sweep(batch=term_df.MIN_BATCH)
    steps = 0
    while not sweep.done:
        sweep.step(pg_store.db, 0.0)  # one batch a step
        steps += 1
    assert rows > 2 * term_df.MIN_BATCH and steps > 2 and sweep.total > 0
    kept, non_positive, zero = kept_counts(pg_store)
    assert kept == _actual(pg_store) and non_positive == zero == 0
    assert pg_store.db.conn.execute("SELECT count(*) FROM term_df").fetchone()[0] == len(kept)
