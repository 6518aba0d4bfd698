"""The approximate vector index of the SQLite backend against exact search, on a real SQLite
file and real HNSW graphs: equal results on small knowledge bases, deletes never returned,
files reopened after a restart, stale and damaged files noticed."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from zhiku.retrieval.ann import AnnParams, AnnVectorIndex
from zhiku.retrieval.ann import files as ann_files
from zhiku.retrieval.ann.graph import EF_GROWTH_VECTORS, MAX_EF_SEARCH, GraphParams, expansion
from zhiku.retrieval.vector import VectorIndex
from zhiku.store.db import open_sqlite
from zhiku.store.filters import SearchFilters
from zhiku.store.records import NewChunk
from zhiku.store.sqlite import SqliteStore
from zhiku.text.tokenize import analyze

pytest.importorskip("usearch")

MODEL = "test-model"
DIM = 32
DOCS = 30
PER_DOC = 20  # 600 chunks


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "ann.db"


def _open(path: Path) -> SqliteStore:
    return SqliteStore(open_sqlite(path), memory_keyword_rows=0)


@pytest.fixture
def store(db_path: Path) -> Iterator[SqliteStore]:
    s = _open(db_path)
    yield s
    s.close()
    s.db.close()


def chunk(text: str, ord_: int) -> NewChunk:
    return NewChunk(text=text, ord=ord_, heading_path=[], page=None, token_count=2,
                    terms=analyze(text))


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal((n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _fill(store: SqliteStore, docs: int = DOCS, seed: int = 0) -> tuple[int, list[int]]:
    """A knowledge base of ``docs`` documents × PER_DOC chunks with random unit vectors; its id
    and its document ids (document n is tagged ``even`` or ``odd``)."""
    rng = np.random.default_rng(seed)
    ws = store.workspace_id("default", create=True)
    kb = store.create_kb(ws, f"kb{seed}", MODEL, {}).id
    doc_ids = []
    for n in range(docs):
        doc, ids = store.replace_document(
            kb, source=f"d{n}", title=None, content_hash=f"h{n}", fmt="txt", size_bytes=1,
            metadata={"tags": ["even" if n % 2 == 0 else "odd"]},
            chunks=[chunk(f"chunk {n} {i}", i) for i in range(PER_DOC)],
        )
        store.add_vectors(kb, MODEL, ids, _unit(rng, len(ids)))
        doc_ids.append(doc.id)
    return kb, doc_ids


def _index(store: SqliteStore, db_path: Path, **kw: int) -> AnnVectorIndex:
    params = AnnParams(
        folder=Path(f"{db_path}.ann"),
        min_chunks=kw.pop("min_chunks", 1),
        # one building thread makes the same graph every run; ef_search above the size of
        # these knowledge bases makes its searches exhaustive
        graph=GraphParams(connectivity=16, ef_construction=200, ef_search=1000, threads=1),
        inline_rows=kw.pop("inline_rows", 100_000),
    )
    return AnnVectorIndex(store, VectorIndex(store), params)


def _queries(n: int = 20) -> np.ndarray:
    return _unit(np.random.default_rng(99), n)


def _same(a: list[tuple[int, float]], b: list[tuple[int, float]]) -> None:
    assert [i for i, _ in a] == [i for i, _ in b]
    assert np.allclose([s for _, s in a], [s for _, s in b], atol=1e-5)


def test_results_equal_exact_search(store: SqliteStore, db_path: Path) -> None:
    kb, _ = _fill(store)
    ann, exact = _index(store, db_path), VectorIndex(store)
    assert ann.ensure(kb, MODEL)
    for q in _queries():
        _same(ann.search(kb, MODEL, q, 10), exact.search(kb, MODEL, q, 10))


def test_filtered_searches_give_a_full_top_k(store: SqliteStore, db_path: Path) -> None:
    kb, doc_ids = _fill(store)
    ann, exact = _index(store, db_path, min_chunks=1), VectorIndex(store)
    assert ann.ensure(kb, MODEL)
    for allowed_docs in (doc_ids[::2], doc_ids[:1], doc_ids[3:5]):
        allowed = store.allowed_chunk_ids([kb], SearchFilters(document_ids=allowed_docs))
        for q in _queries(5):
            got = ann.search(kb, MODEL, q, 10, allowed)
            assert len(got) == min(10, allowed.size)
            assert set(i for i, _ in got) <= set(allowed.tolist())
            _same(got, exact.search(kb, MODEL, q, 10, allowed))


def test_selective_filters_go_through_the_graph_window(store: SqliteStore, db_path: Path) -> None:
    """With exact search for small filtered sets turned off (min_chunks 1 and a set above it),
    the widened graph window still yields the allowed chunks' exact top-k."""
    kb, doc_ids = _fill(store)
    ann, exact = _index(store, db_path), VectorIndex(store)
    assert ann.ensure(kb, MODEL)
    allowed = store.allowed_chunk_ids([kb], SearchFilters(document_ids=doc_ids[:3]))
    for q in _queries(5):
        _same(ann.search(kb, MODEL, q, 5, allowed), exact.search(kb, MODEL, q, 5, allowed))


def test_deleted_and_disabled_chunks_are_never_returned(
    store: SqliteStore, db_path: Path
) -> None:
    kb, doc_ids = _fill(store)
    ann, exact = _index(store, db_path), VectorIndex(store)
    assert ann.ensure(kb, MODEL)
    q = _queries(1)[0]
    best = ann.search(kb, MODEL, q, 600)  # every chunk, best first
    gone_doc = store.get_chunks([best[0][0]])[best[0][0]].document_id
    store.delete_document(gone_doc)
    disabled = next(i for i, _ in best if store.get_chunks([i]))  # the best one left
    store.set_chunk_enabled(disabled, False)
    live = set(store.vector_marks(kb, MODEL)[0].tolist())
    for q2 in [q, *_queries(10)]:
        got = ann.search(kb, MODEL, q2, 600)
        assert {i for i, _ in got} == live
        assert disabled not in {i for i, _ in got}
        _same(got[:10], exact.search(kb, MODEL, q2, 10))
    assert len(live) == (len(doc_ids) - 1) * PER_DOC - 1


def test_appends_and_changed_vectors_are_picked_up(store: SqliteStore, db_path: Path) -> None:
    kb, _ = _fill(store)
    ann, exact = _index(store, db_path), VectorIndex(store)
    assert ann.ensure(kb, MODEL)
    q = _queries(1)[0]
    _, ids = store.replace_document(
        kb, source="new", title=None, content_hash="new", fmt="txt", size_bytes=1, metadata={},
        chunks=[chunk("new one", 0), chunk("new two", 1)],
    )
    store.add_vectors(kb, MODEL, ids, np.stack([q, -q]))  # the query itself: nearest
    assert ann.search(kb, MODEL, q, 1)[0][0] == ids[0]
    old = ann.search(kb, MODEL, q, 2)[1][0]
    # an edited chunk loses its vector and gets a new one (no search in between)
    store.update_chunk_text(old, "edited", token_count=1, terms=["edited"])
    store.add_vectors(kb, MODEL, [old], (-q)[None, :])
    got = ann.search(kb, MODEL, q, 10)
    assert old not in [i for i, _ in got]
    _same(got, exact.search(kb, MODEL, q, 10))


def test_a_restart_opens_the_saved_index(db_path: Path) -> None:
    store = _open(db_path)
    kb, _ = _fill(store)
    ann = _index(store, db_path)
    assert ann.ensure(kb, MODEL)
    before = [ann.search(kb, MODEL, q, 10) for q in _queries()]
    ann.close()
    store.close()
    store.db.close()
    base = ann_files.stem(Path(f"{db_path}.ann"), kb, MODEL)
    graph = ann_files.part(base, "graph")
    stamp = graph.stat().st_mtime_ns

    store = _open(db_path)
    try:
        ann = _index(store, db_path, inline_rows=0)  # any rebuild would go to the background
        after = [ann.search(kb, MODEL, q, 10) for q in _queries()]
        assert ann._states[(kb, MODEL)] is not None  # answered by the reopened graph
        for a, b in zip(before, after, strict=True):
            _same(a, b)
        ann.close()
        assert graph.stat().st_mtime_ns == stamp  # nothing to write: it was current
    finally:
        store.close()
        store.db.close()


def test_a_stale_index_is_brought_up_to_date(db_path: Path) -> None:
    """Changes made while the index was closed (another process, an older file) are found by
    comparing the database with the saved ids and marks."""
    store = _open(db_path)
    kb, doc_ids = _fill(store)
    ann = _index(store, db_path)
    assert ann.ensure(kb, MODEL)
    ann.close()
    q = _queries(1)[0]
    store.delete_document(doc_ids[0])
    _, ids = store.replace_document(
        kb, source="late", title=None, content_hash="late", fmt="txt", size_bytes=1,
        metadata={}, chunks=[chunk("late", 0)],
    )
    store.add_vectors(kb, MODEL, ids, q[None, :])
    try:
        ann = _index(store, db_path)
        exact = VectorIndex(store)
        got = ann.search(kb, MODEL, q, 10)
        assert got[0][0] == ids[0]
        _same(got, exact.search(kb, MODEL, q, 10))
        assert ann._states[(kb, MODEL)].ids.size == store.vector_marks(kb, MODEL)[0].size
    finally:
        ann.close()
        store.close()
        store.db.close()


@pytest.mark.parametrize("damage", ["truncate", "flip", "header", "missing"])
def test_a_damaged_index_is_built_again(
    db_path: Path, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = _open(db_path)
    kb, _ = _fill(store)
    ann = _index(store, db_path)
    assert ann.ensure(kb, MODEL)
    ann.close()
    base = ann_files.stem(Path(f"{db_path}.ann"), kb, MODEL)
    graph = ann_files.part(base, "graph")
    if damage == "truncate":
        graph.write_bytes(graph.read_bytes()[: graph.stat().st_size // 2])
    elif damage == "flip":
        data = bytearray(graph.read_bytes())
        data[len(data) // 2] ^= 0xFF
        graph.write_bytes(bytes(data))
    elif damage == "header":
        ann_files.part(base, "json").write_text("{not json", encoding="utf-8")
    else:
        graph.unlink()
    try:
        ann = _index(store, db_path)
        exact = VectorIndex(store)
        with caplog.at_level(logging.INFO, logger="zhiku.retrieval.ann.index"):
            for q in _queries(5):
                _same(ann.search(kb, MODEL, q, 10), exact.search(kb, MODEL, q, 10))
        assert "unusable, building it again" in caplog.text
        ann.close()
        assert ann_files.read_header(base) is not None  # a sound file replaced it
    finally:
        store.close()
        store.db.close()


def test_small_knowledge_bases_and_large_catch_ups_are_searched_exactly(
    store: SqliteStore, db_path: Path
) -> None:
    kb, _ = _fill(store)
    exact = VectorIndex(store)
    small = _index(store, db_path, min_chunks=10_000)
    for q in _queries(3):
        _same(small.search(kb, MODEL, q, 10), exact.search(kb, MODEL, q, 10))
    assert (kb, MODEL) not in small._states
    assert not Path(f"{db_path}.ann").exists()
    behind = _index(store, db_path, inline_rows=10)  # a first build goes to the background
    q = _queries(1)[0]
    _same(behind.search(kb, MODEL, q, 10), exact.search(kb, MODEL, q, 10))
    behind.wait()  # the build finishes, then the graph answers
    assert behind._states[(kb, MODEL)].ids.size == DOCS * PER_DOC
    _same(behind.search(kb, MODEL, q, 10), exact.search(kb, MODEL, q, 10))
    behind.close()


def test_the_graph_library_loads_beside_the_embedding_runtime() -> None:
    """usearch 2.26 crashes the process when onnxruntime is imported after it (the pin in
    pyproject.toml keeps it out); searching a graph and then embedding a query must work."""
    code = "import usearch.index, onnxruntime; print('ok')"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_deleting_a_knowledge_base_deletes_its_files(store: SqliteStore, db_path: Path) -> None:
    kb, _ = _fill(store)
    ann = _index(store, db_path)
    assert ann.ensure(kb, MODEL)
    folder = Path(f"{db_path}.ann")
    assert list(folder.iterdir())
    store.delete_kb(kb)
    ann.invalidate()
    assert not list(folder.iterdir())


def test_a_graph_searched_whole_is_built_connected() -> None:
    """A graph no larger than ``ef_search`` is walked whole, so every node must be reachable
    even when building may use several threads (concurrent inserts leave some unreachable):
    a search for all of it returns all of it, build after build."""
    from zhiku.retrieval.ann.graph import Graph

    vectors = _unit(np.random.default_rng(7), 220)
    ids = np.arange(1, vectors.shape[0] + 1, dtype=np.int64)
    for _ in range(20):
        graph = Graph.empty(DIM, GraphParams(ef_search=512, threads=8))
        graph.add(ids, vectors)
        for q in vectors[::11]:
            assert np.array_equal(np.sort(graph.search(q, ids.size)), ids)


def test_the_candidate_list_grows_with_the_graph() -> None:
    assert expansion(512, 100_000, 10) == 512  # up to EF_GROWTH_VECTORS: the setting
    assert expansion(512, EF_GROWTH_VECTORS, 10) == 512
    assert expansion(512, 1_000_000, 10) == 1280  # in proportion above it
    assert expansion(512, 100_000_000, 10) == MAX_EF_SEARCH
    assert expansion(512, 1_000, 2_000) == 2_000  # never shorter than the results asked for
