"""The in-memory BM25 index of the SQLite backend: FTS5's rankings, and never stale.

Every check compares against FTS5 itself on real SciFact abstracts and real claims.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_sqlite_store import chunk

from shared_data import SCIFACT_QUERIES
from waiting import wait_until
from zhiku.retrieval.search import specific_terms
from zhiku.store.db import open_sqlite
from zhiku.store.sqlite import SqliteStore, keyword_memory
from zhiku.store.sqlite.keyword_memory import MemoryKeywordIndex
from zhiku.text.tokenize import analyze, query_terms


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    s = SqliteStore(open_sqlite(tmp_path / "kw.db"))
    yield s
    s.close()
    s.db.close()


def _add(store: SqliteStore, kb_id: int, source: str, texts: list[str]) -> list[int]:
    _, ids = store.replace_document(
        kb_id,
        source=source,
        title=source,
        content_hash=source + str(len(texts)),
        fmt="txt",
        size_bytes=1,
        metadata={},
        chunks=[chunk(t, i) for i, t in enumerate(texts)],
    )
    return ids


def _fts(store: SqliteStore, kb_ids: list[int], terms: list[str], limit: int) -> Any:
    match = " OR ".join('"' + t + '"' for t in terms)
    sql = (
        "SELECT f.rowid, -bm25(chunks_fts) FROM chunks_fts f JOIN chunks c ON c.id = f.rowid "
        f"WHERE chunks_fts MATCH ? AND c.kb_id IN ({','.join('?' * len(kb_ids))}) "
        "AND c.enabled = 1 ORDER BY bm25(chunks_fts), f.rowid LIMIT ?"
    )
    return [(r[0], r[1]) for r in store.db.conn.execute(sql, [match, *kb_ids, limit])]


def _memory(store: SqliteStore) -> MemoryKeywordIndex:
    index: MemoryKeywordIndex = store._memory  # the object under test
    return index


@pytest.fixture
def two_kbs(store: SqliteStore, scifact_first: Any) -> tuple[int, int, list[str]]:
    """Two knowledge bases of 150 SciFact abstracts each, and 200 SciFact claims."""
    ws = store.workspace_id()
    a = store.create_kb(ws, "a", "m", {}).id
    b = store.create_kb(ws, "b", "m", {}).id
    for n, p in enumerate(scifact_first(300)):
        _add(store, a if n % 2 else b, f"doc{n}", [p.title + ". " + p.text])
    with SCIFACT_QUERIES.open(encoding="utf-8") as fh:
        claims = [json.loads(line)["text"] for line in fh if line.strip()][:200]
    return a, b, claims


def test_rankings_are_fts5_rankings(
    store: SqliteStore, two_kbs: tuple[int, int, list[str]]
) -> None:
    a, b, claims = two_kbs
    assert _memory(store).refresh()
    compared = 0
    for claim in claims:
        terms = query_terms(claim)
        terms = specific_terms(terms, store.term_stats(terms)[0])
        for kbs in ([a], [b], [a, b]):
            mine = _memory(store).search(kbs, terms, 20)
            assert mine is not None
            theirs = _fts(store, kbs, terms, 20)
            assert [i for i, _ in mine] == [i for i, _ in theirs], claim
            assert all(abs(x - y) < 1e-4 for (_, x), (_, y) in zip(mine, theirs, strict=True))
            compared += len(mine)
    assert compared > 2000


def test_new_documents_are_found_at_once_then_indexed(
    store: SqliteStore, two_kbs: tuple[int, int, list[str]]
) -> None:
    a, _, _ = two_kbs
    assert _memory(store).refresh()
    [new] = _add(store, a, "fresh", ["Zebrafish regenerate cardiac tissue after cryoinjury."])
    terms = analyze("zebrafish cryoinjury")
    assert _memory(store).search([a], terms, 5) is None  # behind: the store asks FTS5
    assert store.keyword_search([a], terms, 5, None)[0][0] == new
    assert _memory(store).refresh()
    found = _memory(store).search([a], terms, 5)
    assert found is not None and found[0][0] == new
    assert len(_memory(store)._snap.segments) == 2  # type: ignore[union-attr]  # appended


def test_deletes_and_disabled_chunks_never_come_back(
    store: SqliteStore, two_kbs: tuple[int, int, list[str]]
) -> None:
    a, _, _ = two_kbs
    ids = _add(store, a, "pair", ["Quokka populations on Rottnest Island.", "Quokka diet."])
    terms = analyze("quokka")
    assert _memory(store).refresh()
    assert {i for i, _ in _memory(store).search([a], terms, 5) or []} == set(ids)
    store.set_chunk_enabled(ids[0], False)
    assert _memory(store).search([a], terms, 5) is None  # a change other than an append
    assert [i for i, _ in store.keyword_search([a], terms, 5, None)] == [ids[1]]
    assert _memory(store).refresh()
    assert [i for i, _ in _memory(store).search([a], terms, 5) or []] == [ids[1]]
    doc = store.find_document(a, "pair")
    assert doc is not None
    store.delete_document(doc.id)
    assert store.keyword_search([a], terms, 5, None) == []
    assert _memory(store).refresh()
    assert _memory(store).search([a], terms, 5) == []


def test_background_refresh_catches_up(
    store: SqliteStore, two_kbs: tuple[int, int, list[str]]
) -> None:
    a, _, claims = two_kbs
    terms = query_terms(claims[1])
    assert _memory(store).search([a], terms, 5) is None  # starts a refresh
    wait_until(lambda: _memory(store).search([a], terms, 5) is not None, 30,
               "the background refresh")
    assert [i for i, _ in _memory(store).search([a], terms, 5) or []] == [
        i for i, _ in _fts(store, [a], terms, 5)
    ]


def test_size_limit_leaves_search_to_fts5(tmp_path: Path, scifact_first: Any) -> None:
    store = SqliteStore(open_sqlite(tmp_path / "small.db"), memory_keyword_rows=10)
    try:
        kb = store.create_kb(store.workspace_id(), "k", "m", {}).id
        for n, p in enumerate(scifact_first(20)):
            _add(store, kb, f"d{n}", [p.text])
        assert not _memory(store).refresh()
        terms = analyze(scifact_first(20)[3].text)[:8]
        assert _memory(store).search([kb], terms, 5) is None
        assert store.keyword_search([kb], terms, 5, None)
        # found too large once, it is not re-read by every search (that cost a core at 1M)
        for _ in range(3):
            assert _memory(store).search([kb], terms, 5) is None
        assert _memory(store)._worker is None
        _add(store, kb, "more", ["appended text"])
        assert _memory(store).search([kb], terms, 5) is None
        assert _memory(store)._worker is None
        store.delete_document(store.list_documents(kb)[0].id)  # shrinks: worth another look
        assert _memory(store).search([kb], terms, 5) is None
        worker = _memory(store)._worker
        assert worker is not None
        worker.join(10)
    finally:
        store.close()
        store.db.close()


def test_a_large_build_hands_free_memory_back(
    store: SqliteStore, two_kbs: tuple[int, int, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, _, _ = two_kbs
    released: list[int] = []
    monkeypatch.setattr(keyword_memory, "release_free_memory", lambda: released.append(1))
    monkeypatch.setattr(keyword_memory, "RELEASE_AFTER_ROWS", 300)
    assert _memory(store).refresh()  # 300 rows: a large build
    assert released == [1]
    _add(store, a, "fresh", ["Zebrafish regenerate cardiac tissue after cryoinjury."])
    assert _memory(store).refresh()  # a one-row appended segment: nothing to hand back
    assert released == [1]
