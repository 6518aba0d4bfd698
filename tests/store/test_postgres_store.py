"""The store conformance suite on a real PostgreSQL with pgvector, plus what only PostgreSQL
does: migrations of a live database, statistics kept by triggers, concurrent writers, BM25
that ranks like FTS5, and HNSW search (recall against exact search, with filters)."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from repo_conformance import RepositoryConformance
from store_conformance import MODEL, StoreConformance, chunk, put, search

import pgtest
from shared_data import SCIFACT_CORPUS, SCIFACT_QUERIES
from zhiku.core.settings import Settings
from zhiku.models.embedders import make_embedder
from zhiku.store.db import open_postgres, open_sqlite
from zhiku.store.postgres import fts
from zhiku.store.postgres.migrations import MIGRATIONS, migrate
from zhiku.store.postgres.store import PostgresStore
from zhiku.store.postgres.vector_index import PgVectorIndex
from zhiku.store.sqlite import SqliteStore
from zhiku.text.tokenize import analyze, query_terms

pytestmark = pytest.mark.backend("postgres")


class TestPostgresStore(StoreConformance, RepositoryConformance):
    """The conformance suite on PostgreSQL, plus PostgreSQL-only guarantees."""

    @pytest.fixture
    def store(self, pg_url: str) -> Iterator[PostgresStore]:
        db = open_postgres(pg_url, pool_size=4)
        s = PostgresStore(db)
        yield s
        s.close()
        db.close()

    def test_migrations_rerun_is_a_no_op(
        self, store: PostgresStore, pg_url: str, kb_id: int
    ) -> None:
        doc, ids = put(store, kb_id, "/a.txt", ["survives reopening"])
        assert migrate(store.db) == len(MIGRATIONS)
        for _ in range(2):  # another process starting on the live database
            again = PostgresStore(open_postgres(pg_url, pool_size=2))
            try:
                assert migrate(again.db) == len(MIGRATIONS)
                assert again.get_document(doc.id) == doc
                assert search(again, [kb_id], "reopening") == ids
                assert again.db.conn.execute(
                    "SELECT count(*) FROM workspaces WHERE name = 'default'").fetchone()[0] == 1
            finally:
                again.close()
                again.db.close()

    def test_corpus_stats_follow_every_write(self, store: PostgresStore, kb_id: int) -> None:
        other = store.create_kb(store.workspace_id(), "other", MODEL, {}).id

        def check() -> None:
            kept = {r[0]: (r[1], r[2]) for r in store.db.conn.execute(
                "SELECT kb_id, sum(chunks), sum(terms) FROM chunk_stats GROUP BY kb_id")}
            actual = {r[0]: (r[1], r[2]) for r in store.db.conn.execute(
                "SELECT k.id, count(c.tsv), coalesce(sum(c.term_count), 0) FROM knowledge_bases k "
                "LEFT JOIN chunks c ON c.kb_id = k.id AND c.tsv IS NOT NULL GROUP BY k.id")}
            assert kept == actual
            kept_df = {(r[0], r[1]): r[2] for r in store.db.conn.execute(
                "SELECT kb_id, lexeme, sum(df) FROM term_df GROUP BY kb_id, lexeme "
                "HAVING sum(df) <> 0")}
            actual_df = {(r[0], r[1]): r[2] for r in store.db.conn.execute(
                "SELECT c.kb_id, u.lexeme, count(*) FROM chunks c, unnest(c.tsv) u "
                "GROUP BY c.kb_id, u.lexeme")}
            assert kept_df == actual_df

        put(store, kb_id, "/a.txt", ["annual leave policy", "travel reimbursement"])
        put(store, other, "/b.txt", ["annual leave in another base"])
        check()
        assert store.term_stats(["annual", "travel", "absent"]) == ({"annual": 2, "travel": 1}, 3)
        put(store, kb_id, "/a.txt", ["one replacement chunk"], content_hash="h2")
        check()
        new = store.find_document(kb_id, "/a.txt")
        assert new is not None
        first = store.list_chunks(new.id)[0].id
        store.update_chunk_text(first, "a much longer replacement text now",
                                token_count=6, terms=analyze("a much longer replacement text now"))
        check()
        store.delete_document(new.id)
        check()
        with store.db.write() as conn:  # a chunk's terms change in place: only the difference
            conn.execute("UPDATE chunks SET tsv = to_tsvector('simple', 'annual leave annual') "
                         "WHERE kb_id = ?", (other,))
        check()
        store.delete_kb(other)
        check()
        assert store.db.conn.execute(
            "SELECT count(*) FROM term_df WHERE kb_id = ?", (other,)).fetchone()[0] == 0
        assert store.term_stats(["leav"]) == ({}, 0)

    def test_concurrent_replacements_of_one_source(self, store: PostgresStore,
                                                   kb_id: int) -> None:
        errors: list[BaseException] = []

        def write(n: int) -> None:
            try:
                put(store, kb_id, "/same.txt", [f"version {n} first", f"version {n} second"],
                    content_hash=f"h{n}")
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        docs = store.list_documents(kb_id)
        assert len(docs) == 1
        chunks = store.list_chunks(docs[0].id)
        assert len(chunks) == 2 and chunks[0].text.split()[1] == docs[0].content_hash[1:]
        assert store.db.conn.execute("SELECT count(*) FROM chunks").fetchone()[0] == 2

    def test_conflicting_writes_roll_back(self, store: PostgresStore, kb_id: int) -> None:
        ws = store.workspace_id()
        with pytest.raises(store.db.IntegrityError), store.db.write() as conn:
            conn.execute("INSERT INTO knowledge_bases (workspace_id, name, embedder) "
                         "VALUES (?, 'fresh', 'm')", (ws,))
            conn.execute("INSERT INTO knowledge_bases (workspace_id, name, embedder) "
                         "VALUES (?, 'handbook', 'm')", (ws,))
        assert [k.name for k in store.list_kbs(ws)] == ["handbook"]
        # the pool's connections are clean afterwards
        assert store.create_kb(ws, "fresh", MODEL, {}).name == "fresh"


# -- real data: BM25 against FTS5, HNSW against exact search ---------------------------------
@dataclass
class Corpus:
    """SciFact abstracts in both stores, with hashing-embedder vectors in PostgreSQL."""

    pg: PostgresStore
    sqlite: SqliteStore
    kb_id: int
    small_kb_id: int
    ids: list[int]
    small_ids: list[int]
    model: str
    queries: list[str]
    qvecs: np.ndarray
    texts: list[str]


def _scifact(n: int) -> list[str]:
    if not SCIFACT_CORPUS.exists():
        pytest.skip(f"shared data set missing: {SCIFACT_CORPUS}")
    out: list[str] = []
    with gzip.open(SCIFACT_CORPUS, "rt", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            out.append(f"{row['title']}\n{row['text']}")
            if len(out) >= n:
                break
    return out


def _load(store: Any, kb_id: int, texts: list[str], prefix: str) -> list[int]:
    ids: list[int] = []
    for start in range(0, len(texts), 250):
        _, got = store.replace_document(
            kb_id, source=f"{prefix}{start}", title=None, content_hash="h", fmt="txt",
            size_bytes=1, metadata={"part": start // 250},
            chunks=[chunk(t, i) for i, t in enumerate(texts[start : start + 250])])
        ids += got
    return ids


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Corpus]:
    texts = _scifact(3200)
    big, small = texts[:3000], texts[3000:]
    queries = [json.loads(line)["text"] for line in
               SCIFACT_QUERIES.read_text(encoding="utf-8").splitlines()[:60]]
    embedder = make_embedder("hashing-256", Settings(home=tmp_path_factory.mktemp("home")))
    url = pgtest.fresh_database()
    pg = PostgresStore(open_postgres(url, pool_size=4))
    sqlite = SqliteStore(open_sqlite(Path(tmp_path_factory.mktemp("fts")) / "zhiku.db"),
                         memory_keyword_rows=0)  # FTS5's own bm25()
    try:
        kb_id = pg.create_kb(pg.workspace_id(), "scifact", embedder.model_id, {}).id
        small_kb_id = pg.create_kb(pg.workspace_id(), "small", embedder.model_id, {}).id
        assert sqlite.create_kb(sqlite.workspace_id(), "scifact", "m", {}).id == kb_id
        ids = _load(pg, kb_id, big, "/big/")
        small_ids = _load(pg, small_kb_id, small, "/small/")
        _load(sqlite, kb_id, big, "/big/")
        pg.add_vectors(kb_id, embedder.model_id, ids, embedder.embed_batch(big))
        pg.add_vectors(small_kb_id, embedder.model_id, small_ids, embedder.embed_batch(small))
        pg.db.conn.execute("ANALYZE")
        yield Corpus(pg, sqlite, kb_id, small_kb_id, ids, small_ids, embedder.model_id,
                     queries, embedder.embed_batch(queries), texts)
    finally:
        pg.close()
        pg.db.close()
        sqlite.close()
        sqlite.db.close()
        pgtest.drop_database(url)


def test_bm25_ranks_like_fts5(corpus: Corpus) -> None:
    """Same candidates, same statistics, same formula: the same ranking and scores."""
    for query in corpus.queries[:40]:
        terms = query_terms(query)
        got = corpus.pg.keyword_search([corpus.kb_id], terms, 10, None)
        want = corpus.sqlite.keyword_search([corpus.kb_id], terms, 10, None)
        assert [c for c, _ in got] == [c for c, _ in want], query
        assert np.allclose([s for _, s in got], [s for _, s in want], rtol=1e-6)
    terms = [*query_terms(corpus.queries[0]), "absent-from-every-abstract"]
    documents = [set(analyze(t)) for t in corpus.texts]  # term_stats spans every base
    want_freqs = {t: n for t in terms if (n := sum(t in d for d in documents))}
    assert corpus.pg.term_stats(terms) == (want_freqs, len(corpus.texts))


def _recall(found: list[tuple[int, float]], exact: list[tuple[int, float]]) -> float:
    return len({c for c, _ in found} & {c for c, _ in exact}) / max(1, len(exact))


def test_hnsw_recall_against_exact_search(corpus: Corpus) -> None:
    index = corpus.pg.vector_index()
    statement, params = index.approximate_sql(corpus.kb_id, corpus.model, corpus.qvecs[0], 10)
    with corpus.pg.db.raw() as conn:
        plan = "\n".join(r[0] for r in conn.execute(b"EXPLAIN " + statement.as_bytes(conn),
                                                    params))
    assert "embeddings_hnsw_" in plan  # the per-model HNSW index answers
    recalls = []
    for q in corpus.qvecs:
        found = index.search(corpus.kb_id, corpus.model, q, 10)
        exact = index.exact(corpus.kb_id, corpus.model, q, 10)
        assert len(found) == 10
        assert [s for _, s in found] == sorted((s for _, s in found), reverse=True)
        recalls.append(_recall(found, exact))
    assert float(np.mean(recalls)) >= 0.95
    # the index's answers are the exact cosines
    cid, score = index.search(corpus.kb_id, corpus.model, corpus.qvecs[0], 1)[0]
    stored = corpus.pg.vectors_for([cid], corpus.model)[cid]
    assert score == pytest.approx(float(stored @ corpus.qvecs[0]), abs=1e-5)


def test_filtered_hnsw_search_keeps_its_limit(corpus: Corpus) -> None:
    """Iterative index scans: a small knowledge base beside a big one, a narrow set of allowed
    chunks and a disabled chunk all still yield ``limit`` correct neighbours."""
    always = PgVectorIndex(corpus.pg.db, corpus.pg.hnsw, exact_below=0)
    allowed = np.array(corpus.ids[::100], dtype=np.int64)  # 1%: one index pass finds ~2
    for q in corpus.qvecs[:20]:
        small = always.approximate(corpus.small_kb_id, corpus.model, q, 10)
        assert len(small) == 10 and {c for c, _ in small} <= set(corpus.small_ids)
        assert _recall(small, always.exact(corpus.small_kb_id, corpus.model, q, 10)) >= 0.8
        narrow = always.approximate(corpus.kb_id, corpus.model, q, 10, allowed)
        assert len(narrow) == 10 and {c for c, _ in narrow} <= set(allowed.tolist())
        assert _recall(narrow, always.exact(corpus.kb_id, corpus.model, q, 10, allowed)) >= 0.8
    top = always.search(corpus.kb_id, corpus.model, corpus.qvecs[0], 10)
    corpus.pg.set_chunk_enabled(top[0][0], False)
    try:
        again = always.search(corpus.kb_id, corpus.model, corpus.qvecs[0], 10)
        assert len(again) == 10 and top[0][0] not in {c for c, _ in again}
    finally:
        corpus.pg.set_chunk_enabled(top[0][0], True)
    assert always.search(corpus.kb_id, "no-such-model", corpus.qvecs[0], 10) == []
    assert always.search(corpus.kb_id, corpus.model, corpus.qvecs[0][:8], 10) == []


PLANS = ["", "SET LOCAL enable_hashjoin = off", "SET LOCAL enable_hashagg = off",
         "SET LOCAL enable_nestloop = off; SET LOCAL enable_mergejoin = off",
         "SET LOCAL enable_bitmapscan = off; SET LOCAL enable_sort = off"]


def test_bm25_scores_do_not_depend_on_the_plan(corpus: Corpus) -> None:
    """Two server processes may plan the same search differently (statistics refreshed by
    autovacuum in between, a prepared generic plan): scores are summed in one order, so they
    agree to the bit and so do the rankings."""
    for query in corpus.queries[:20]:
        words = fts.query_lexemes(query_terms(query))
        kbs = [corpus.kb_id]
        params = [words, fts.tsquery_literal(words), kbs, kbs, words, kbs, 50]
        seen = []
        for plan in PLANS:
            with corpus.pg.db.raw() as conn, conn.transaction():
                for setting in filter(None, plan.split("; ")):
                    conn.execute(setting)
                rows = conn.execute(fts.bm25_sql(None).replace("?", "%s"), params).fetchall()
            seen.append([(int(r[0]), float(r[1]).hex()) for r in rows])
        assert all(s == seen[0] for s in seen), query
