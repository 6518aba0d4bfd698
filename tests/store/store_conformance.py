"""The store contract as a reusable conformance class: every backend's test class inherits it.

``StoreConformance`` only talks to the store through its public methods; a backend's test class
provides a ``store`` fixture on an empty database (``test_sqlite_store.py``,
``test_postgres_store.py``) and adds the checks that only make sense for that backend.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from zhiku.core.errors import Conflict, NotFound
from zhiku.store.doc_query import DocumentQuery
from zhiku.store.filters import SearchFilters
from zhiku.store.records import Document, NewChunk
from zhiku.text.tokenize import analyze, query_terms

MODEL = "test-model"
DIM = 8


def chunk(text: str, ord_: int = 0, **kw: Any) -> NewChunk:
    """A chunk with its analyzer terms, as the pipeline writes it."""
    searchable = kw.pop("searchable", True)
    return NewChunk(
        text=text,
        ord=ord_,
        heading_path=kw.pop("heading_path", []),
        page=kw.pop("page", None),
        token_count=len(text.split()),
        terms=analyze(text) if searchable else [],
        searchable=searchable,
        **kw,
    )


def put(
    store: Any,
    kb_id: int,
    source: str,
    texts: list[str],
    *,
    metadata: dict[str, Any] | None = None,
    fmt: str = "txt",
    content_hash: str | None = None,
) -> tuple[Document, list[int]]:
    return store.replace_document(  # type: ignore[no-any-return]
        kb_id,
        source=source,
        title=Path(source).name,
        content_hash=content_hash or f"hash-of-{source}-{len(texts)}-{texts[0][:10]}",
        fmt=fmt,
        size_bytes=sum(len(t) for t in texts),
        metadata=metadata or {},
        chunks=[chunk(t, i) for i, t in enumerate(texts)],
    )


def vectors(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    m = rng.normal(size=(n, DIM)).astype(np.float32)
    return m / np.linalg.norm(m, axis=1, keepdims=True)


def search(store: Any, kb_ids: list[int], query: str, filters: SearchFilters | None = None,
           limit: int = 10) -> list[int]:
    return [cid for cid, _ in store.keyword_search(kb_ids, query_terms(query), limit, filters)]


class StoreConformance:
    """What every store backend must do (``zhiku.store.protocols.Store``).

    Subclasses provide a ``store`` fixture on an empty database; a PostgreSQL backend reuses
    this class unchanged.
    """

    @pytest.fixture
    def kb_id(self, store: Any) -> int:
        ws = store.workspace_id("default", create=True)
        return int(store.create_kb(ws, "handbook", MODEL, {"chunk_tokens": 128}).id)

    # -- workspaces and knowledge bases -------------------------------------------------
    def test_workspaces(self, store: Any) -> None:
        first = store.workspace_id("acme", create=True)
        assert store.workspace_id("acme") == first
        assert store.workspace_id("acme", create=True) == first
        with pytest.raises(NotFound):
            store.workspace_id("nobody")

    def test_kb_create_get_list_conflict(self, store: Any) -> None:
        ws = store.workspace_id("default", create=True)
        other_ws = store.workspace_id("other", create=True)
        kb = store.create_kb(ws, "hr", MODEL, {"chunk_tokens": 64})
        assert (kb.name, kb.embedder, kb.settings) == ("hr", MODEL, {"chunk_tokens": 64})
        assert store.get_kb(ws, "hr") == kb
        assert store.get_kb_by_id(kb.id) == kb
        with pytest.raises(Conflict):
            store.create_kb(ws, "hr", MODEL, {})
        # the same name is free in another workspace
        assert store.create_kb(other_ws, "hr", MODEL, {}).id != kb.id
        store.create_kb(ws, "finance", MODEL, {})
        assert [k.name for k in store.list_kbs(ws)] == ["finance", "hr"]
        with pytest.raises(NotFound):
            store.get_kb(ws, "missing")
        updated = store.update_kb(kb.id, embedder="other-model", settings={"chunk_tokens": 32})
        assert (updated.embedder, updated.settings) == ("other-model", {"chunk_tokens": 32})

    def test_kb_delete_cascades(self, store: Any, kb_id: int) -> None:
        ws = store.workspace_id("default")
        keep = store.create_kb(ws, "keep", MODEL, {}).id
        _, ids = put(store, kb_id, "/a.txt", ["annual leave policy", "travel reimbursement"])
        store.add_vectors(kb_id, MODEL, ids, vectors(len(ids)))
        _, kept_ids = put(store, keep, "/b.txt", ["annual leave in the kept base"])
        store.add_vectors(keep, MODEL, kept_ids, vectors(1))
        store.delete_kb(kb_id)
        with pytest.raises(NotFound):
            store.get_kb_by_id(kb_id)
        assert store.get_chunks(ids) == {}
        assert store.vectors_for(ids, MODEL) == {}
        assert search(store, [kb_id, keep], "annual leave") == kept_ids
        assert list(store.vectors_for(kept_ids, MODEL)) == kept_ids

    def test_kb_stats(self, store: Any, kb_id: int) -> None:
        _, ids = put(store, kb_id, "/a.txt", ["one", "two", "three"])
        store.record_failure(kb_id, source="/bad.pdf", content_hash="", fmt="pdf", size_bytes=3,
                             error="corrupt")
        store.add_vectors(kb_id, MODEL, ids[:2], vectors(2))
        stats = store.kb_stats(kb_id)
        assert stats["documents"] == 2
        assert (stats["parsed"], stats["ready"], stats["error"]) == (1, 0, 1)
        assert (stats["chunks"], stats["embedded"]) == (3, 2)

    # -- documents ------------------------------------------------------------------------
    def test_replace_document_writes_everything(self, store: Any, kb_id: int) -> None:
        doc, ids = store.replace_document(
            kb_id, source="/docs/policy.md", title="Policy", content_hash="h1", fmt="md",
            size_bytes=120, metadata={"tags": ["hr"], "作者": "李雷"},
            chunks=[
                chunk("Leave policy section", 0, searchable=False, heading_path=["Policy"]),
                chunk("Annual leave is 15 days", 1, parent=0, heading_path=["Policy"], page=2),
                chunk("Sick leave is paid", 2, parent=0, heading_path=["Policy"]),
            ],
        )
        assert (doc.source, doc.title, doc.content_hash, doc.format) == (
            "/docs/policy.md", "Policy", "h1", "md")
        assert doc.status == "parsed" and doc.error is None
        assert doc.chunk_count == 2 == len(ids)
        assert doc.metadata == {"tags": ["hr"], "作者": "李雷"}
        assert store.find_document(kb_id, "/docs/policy.md") == doc
        assert store.get_document(doc.id) == doc
        stored = store.list_chunks(doc.id)
        assert [c.ord for c in stored] == [0, 1, 2]
        parent = stored[0]
        assert not parent.searchable
        assert [c.id for c in stored[1:]] == ids
        assert all(c.parent_id == parent.id for c in stored[1:])
        assert stored[1].page == 2 and stored[1].heading_path == ["Policy"]
        # parents are context, not search targets
        assert search(store, [kb_id], "leave policy section") != [] and parent.id not in search(
            store, [kb_id], "leave policy section")

    def test_replace_document_replaces_atomically(self, store: Any, kb_id: int) -> None:
        _, old_ids = put(store, kb_id, "/a.txt", ["the old reimbursement rules", "old travel"])
        store.add_vectors(kb_id, MODEL, old_ids, vectors(2))
        new, new_ids = put(store, kb_id, "/a.txt", ["the new expense rules"], content_hash="h2")
        assert store.find_document(kb_id, "/a.txt") == new
        assert new.content_hash == "h2"
        assert [c.text for c in store.list_chunks(new.id)] == ["the new expense rules"]
        assert store.get_chunks(sorted(set(old_ids) - set(new_ids))) == {}
        assert store.vectors_for(old_ids + new_ids, MODEL) == {}  # old vectors went too
        assert search(store, [kb_id], "reimbursement") == []
        assert search(store, [kb_id], "expense") == new_ids
        assert len(store.list_documents(kb_id)) == 1

    def test_replacement_never_reuses_chunk_ids(self, store: Any, kb_id: int) -> None:
        _, old_ids = put(store, kb_id, "/a.txt", ["old one", "old two"])
        _, new_ids = put(store, kb_id, "/a.txt", ["new one", "new two"], content_hash="h2")
        assert set(new_ids).isdisjoint(old_ids)

    def test_failed_replacement_leaves_the_old_version(self, store: Any, kb_id: int) -> None:
        old, old_ids = put(store, kb_id, "/a.txt", ["the old reimbursement rules"])
        store.add_vectors(kb_id, MODEL, old_ids, vectors(1))
        broken = [chunk("the new expense rules", 0), chunk("second", 1)]
        broken[1].text = None  # type: ignore[assignment]  # violates NOT NULL mid-transaction
        with pytest.raises(Exception):  # noqa: B017 - the backend's own integrity error
            store.replace_document(kb_id, source="/a.txt", title="a", content_hash="h2",
                                   fmt="txt", size_bytes=1, metadata={}, chunks=broken)
        assert store.find_document(kb_id, "/a.txt") == old
        assert [c.id for c in store.list_chunks(old.id)] == old_ids
        assert list(store.vectors_for(old_ids, MODEL)) == old_ids
        assert search(store, [kb_id], "reimbursement") == old_ids
        assert search(store, [kb_id], "expense") == []

    def test_write_group_commits_its_documents_together(self, store: Any, kb_id: int) -> None:
        with store.write_group():
            _, first = put(store, kb_id, "/a.txt", ["the old reimbursement rules"])
            _, second = put(store, kb_id, "/b.txt", ["员工出差报销需要发票", "annual leave"])
            # a document replaced within the group keeps only its new terms
            _, third = put(store, kb_id, "/a.txt", ["the new expense rules"], content_hash="h2")
            assert store.get_chunks(first) == {}
        assert search(store, [kb_id], "reimbursement") == []
        assert search(store, [kb_id], "expense") == third
        assert search(store, [kb_id], "出差报销") == second[:1]
        assert search(store, [kb_id], "annual leave") == second[1:]
        freqs, total = store.term_stats(["rule", "expens", "reimburs"])
        assert (freqs, total) == ({"rule": 1, "expens": 1}, 3)
        doc = store.find_document(kb_id, "/b.txt")
        store.delete_document(doc.id)
        assert search(store, [kb_id], "出差报销") == []
        assert store.term_stats(["leav"]) == ({}, 1)

    def test_a_failed_write_group_leaves_nothing(self, store: Any, kb_id: int) -> None:
        _, kept = put(store, kb_id, "/keep.txt", ["kept travel rules"])
        with pytest.raises(RuntimeError), store.write_group():
            put(store, kb_id, "/a.txt", ["lost travel receipts"])
            put(store, kb_id, "/keep.txt", ["lost replacement"], content_hash="h2")
            raise RuntimeError("the group fails")
        assert [d.source for d in store.list_documents(kb_id)] == ["/keep.txt"]
        assert search(store, [kb_id], "travel") == kept
        assert search(store, [kb_id], "lost receipts") == []
        assert store.term_stats(["travel"]) == ({"travel": 1}, 1)
        with store.write_group():  # the next group starts clean
            _, later = put(store, kb_id, "/c.txt", ["later travel notes"])
        assert set(search(store, [kb_id], "travel")) == set(kept + later)

    def test_delete_document_removes_chunks_vectors_and_terms(self, store: Any, kb_id: int) -> None:
        doc, ids = put(store, kb_id, "/a.txt", ["报销流程需要发票", "annual leave"])
        _, other_ids = put(store, kb_id, "/b.txt", ["报销流程另一份"])
        store.add_vectors(kb_id, MODEL, ids + other_ids, vectors(3))
        store.delete_document(doc.id)
        with pytest.raises(NotFound):
            store.get_document(doc.id)
        assert store.find_document(kb_id, "/a.txt") is None
        assert store.list_chunks(doc.id) == []
        assert store.get_chunks(ids) == {}
        assert store.vectors_for(ids, MODEL) == {}
        assert search(store, [kb_id], "报销流程") == other_ids
        loaded_ids, matrix = store.load_vectors(kb_id, MODEL)
        assert loaded_ids.tolist() == other_ids and matrix.shape == (1, DIM)
        with pytest.raises(NotFound):
            store.delete_document(doc.id)

    def test_record_failure_keeps_a_good_earlier_version(self, store: Any, kb_id: int) -> None:
        good, ids = put(store, kb_id, "/a.pdf", ["quarterly report"], fmt="pdf")
        store.record_failure(kb_id, source="/a.pdf", content_hash="x", fmt="pdf", size_bytes=1,
                             error="corrupt or unreadable PDF")
        assert store.find_document(kb_id, "/a.pdf") == good
        assert search(store, [kb_id], "quarterly") == ids
        store.record_failure(kb_id, source="/b.pdf", content_hash="", fmt="pdf", size_bytes=0,
                             error="first")
        store.record_failure(kb_id, source="/b.pdf", content_hash="", fmt="pdf", size_bytes=0,
                             error="second")
        failed = store.list_documents(kb_id, "error")
        assert [(d.source, d.error, d.chunk_count) for d in failed] == [("/b.pdf", "second", 0)]
        # a later successful ingest replaces the error record
        fixed, _ = put(store, kb_id, "/b.pdf", ["fixed now"], fmt="pdf")
        assert fixed.status == "parsed" and fixed.error is None
        assert store.list_documents(kb_id, "error") == []

    def test_list_documents_by_status_and_source(self, store: Any, kb_id: int) -> None:
        _, ids = put(store, kb_id, "/b.txt", ["bravo"])
        put(store, kb_id, "/a.txt", ["alpha"])
        store.add_vectors(kb_id, MODEL, ids, vectors(1))
        store.mark_ready([d.id for d in store.list_documents(kb_id)], MODEL)
        assert [d.source for d in store.list_documents(kb_id)] == ["/a.txt", "/b.txt"]
        assert [d.source for d in store.list_documents(kb_id, "ready")] == ["/b.txt"]
        assert [d.source for d in store.list_documents(kb_id, "parsed")] == ["/a.txt"]

    def test_query_documents_pages_filters_sorts_and_counts(
        self, store: Any, kb_id: int
    ) -> None:
        for i, name in enumerate(["/c_2.md", "/a%1.txt", "/B.txt", "/d.txt"]):
            put(store, kb_id, name, ["x" * (i + 1)] * (i + 1),
                metadata={"tags": ["odd" if i % 2 else "even"]})
        store.switch_embedder(kb_id, "other-model")  # nothing is ready: stays parsed

        def names(**kw: Any) -> tuple[list[str], int]:
            docs, total = store.query_documents(kb_id, DocumentQuery(**kw))
            return [d.source for d in docs], total

        assert names() == (["/B.txt", "/a%1.txt", "/c_2.md", "/d.txt"], 4)
        assert names(sort="size", descending=True, limit=2) == (["/d.txt", "/B.txt"], 4)
        assert names(sort="chunks", limit=2, offset=1) == (["/a%1.txt", "/B.txt"], 4)
        assert names(sort="format") == (["/c_2.md", "/a%1.txt", "/B.txt", "/d.txt"], 4)  # ties: id
        assert names(text="b.TXT") == (["/B.txt"], 1)  # case-insensitive
        assert names(text="%") == (["/a%1.txt"], 1)  # LIKE wildcards match themselves
        assert names(text="_") == (["/c_2.md"], 1)
        assert names(tag="odd") == (["/a%1.txt", "/d.txt"], 2)
        assert names(tag="odd", status="ready") == ([], 0)
        assert names(status="parsed", limit=1, offset=3) == (["/d.txt"], 4)
        assert names(limit=5, offset=10) == ([], 4)
        assert store.get_kb_by_id(kb_id).embedder == "other-model"

    # -- embeddings -----------------------------------------------------------------------
    def test_vectors_round_trip_and_mark_ready(self, store: Any, kb_id: int) -> None:
        doc, ids = put(store, kb_id, "/a.txt", ["one", "two", "three"])
        missing = store.chunks_missing_vectors(kb_id, MODEL)
        assert [(cid, did) for cid, did, _ in missing] == [(i, doc.id) for i in ids]
        assert [text for _, _, text in missing] == ["one", "two", "three"]
        matrix = vectors(3)
        before = store.vector_version(kb_id)
        store.add_vectors(kb_id, MODEL, ids[:2], matrix[:2])
        assert store.vector_version(kb_id) != before
        assert store.mark_ready([doc.id], MODEL) == []  # one chunk still lacks a vector
        assert store.get_document(doc.id).status == "parsed"
        store.add_vectors(kb_id, MODEL, ids[2:], matrix[2:])
        assert store.mark_ready([doc.id], MODEL) == [doc.id]
        assert store.get_document(doc.id).status == "ready"
        got = store.vectors_for(ids, MODEL)
        assert np.allclose(np.stack([got[i] for i in ids]), matrix)
        loaded_ids, loaded = store.load_vectors(kb_id, MODEL)
        assert loaded_ids.tolist() == ids and np.allclose(loaded, matrix)
        assert store.chunks_missing_vectors(kb_id, MODEL) == []
        # another model's vectors are separate
        assert len(store.chunks_missing_vectors(kb_id, "other-model")) == 3

    def test_missing_vectors_pages_by_id(self, store: Any, kb_id: int) -> None:
        _, ids = put(store, kb_id, "/a.txt", [f"chunk {i}" for i in range(7)])
        seen: list[int] = []
        after = 0
        while page := store.chunks_missing_vectors(kb_id, MODEL, after_id=after, limit=3):
            assert len(page) <= 3
            seen += [cid for cid, _, _ in page]
            after = page[-1][0]
        assert seen == ids

    def test_missing_vectors_of_parsed_documents_only(self, store: Any, kb_id: int) -> None:
        ready, ready_ids = put(store, kb_id, "/ready.txt", ["embedded", "and ready"])
        store.add_vectors(kb_id, MODEL, ready_ids, vectors(2))
        assert store.mark_ready([ready.id], MODEL) == [ready.id]
        parsed, parsed_ids = put(store, kb_id, "/parsed.txt", ["still", "waiting"])
        scoped = store.chunks_missing_vectors(kb_id, "other-model", parsed_only=True)
        assert [(c, d) for c, d, _ in scoped] == [(i, parsed.id) for i in parsed_ids]
        everything = store.chunks_missing_vectors(kb_id, "other-model")
        assert [c for c, _, _ in everything] == ready_ids + parsed_ids
        page = store.chunks_missing_vectors(kb_id, MODEL, parsed_only=True,
                                            after_id=parsed_ids[0], limit=5)
        assert [c for c, _, _ in page] == parsed_ids[1:]
        one = store.chunks_missing_vectors(kb_id, "other-model", document_id=ready.id)
        assert [(c, d, t) for c, d, t in one] == [(ready_ids[0], ready.id, "embedded"),
                                                   (ready_ids[1], ready.id, "and ready")]

    def test_missing_vectors_come_with_the_text_to_embed(self, store: Any, kb_id: int) -> None:
        _, ids = store.replace_document(
            kb_id, source="/a.md", title="a", content_hash="h", fmt="md", size_bytes=1,
            metadata={},
            chunks=[chunk("Book economy class.", 0, heading_path=["Policy", "Travel"])])
        assert store.chunks_missing_vectors(kb_id, MODEL) == [
            (ids[0], store.list_documents(kb_id)[0].id, "Policy > Travel\nBook economy class.")]

    def test_add_vectors_for_a_deleted_chunk_is_skipped(self, store: Any, kb_id: int) -> None:
        doc, ids = put(store, kb_id, "/a.txt", ["gone soon"])
        _, kept = put(store, kb_id, "/b.txt", ["stays"])
        store.delete_document(doc.id)
        # an embedding worker finishing late must not resurrect or fail on the deleted chunk
        store.add_vectors(kb_id, MODEL, ids + kept, vectors(2))
        assert store.vectors_for(ids + kept, MODEL).keys() == set(kept)
        assert store.load_vectors(kb_id, MODEL)[0].tolist() == kept

    def test_drop_vectors_of_one_model(self, store: Any, kb_id: int) -> None:
        _, ids = put(store, kb_id, "/a.txt", ["one", "two"])
        store.add_vectors(kb_id, MODEL, ids, vectors(2))
        store.add_vectors(kb_id, "new-model", ids, vectors(2, seed=1)[:, :4])
        store.drop_vectors(kb_id, MODEL)
        assert store.vectors_for(ids, MODEL) == {}
        new_ids, new = store.load_vectors(kb_id, "new-model")
        assert new_ids.tolist() == ids and new.shape == (2, 4)

    def test_update_chunk_text_reindexes_and_drops_the_vector(
        self, store: Any, kb_id: int
    ) -> None:
        doc, ids = store.replace_document(
            kb_id, source="/a.md", title="a", content_hash="h", fmt="md", size_bytes=1,
            metadata={}, chunks=[chunk("Travel section", 0, searchable=False),
                                 chunk("old travel rule", 1, parent=0), chunk("other text", 2)])
        parent = store.list_chunks(doc.id)[0]
        store.add_vectors(kb_id, MODEL, ids, vectors(2))
        assert store.mark_ready([doc.id], MODEL) == [doc.id]
        before = store.vector_version(kb_id)
        new_terms = analyze("new expense rule")
        store.update_chunk_text(ids[0], "new expense rule", token_count=3, terms=new_terms)
        edited = store.get_chunks([ids[0]])[ids[0]]
        assert (edited.text, edited.token_count, edited.parent_id) == (
            "new expense rule", 3, parent.id)
        assert search(store, [kb_id], "travel") == []
        assert search(store, [kb_id], "expense rule") == [ids[0]]
        assert store.chunk_terms([ids[0]]) == {ids[0]: new_terms}
        assert store.chunk_vocabulary([ids[0], parent.id]) == {ids[0]: set(new_terms)}
        assert store.vectors_for(ids, MODEL).keys() == {ids[1]}  # re-embedding is due
        assert store.get_document(doc.id).status == "parsed"
        assert store.vector_version(kb_id) != before
        assert [c for c, _, _ in store.chunks_missing_vectors(kb_id, MODEL)] == [ids[0]]
        # a parent section is context only: new text, still not searchable
        store.update_chunk_text(parent.id, "Expense section", token_count=2, terms=[])
        assert store.get_chunks([parent.id])[parent.id].text == "Expense section"
        assert parent.id not in search(store, [kb_id], "expense section")
        with pytest.raises(NotFound):
            store.update_chunk_text(10**9, "x", token_count=1, terms=["x"])

    def test_disabled_chunks_are_not_searchable(self, store: Any, kb_id: int) -> None:
        _, ids = put(store, kb_id, "/a.txt", ["obsolete travel rule", "current travel rule"])
        store.add_vectors(kb_id, MODEL, ids, vectors(2))
        before = store.vector_version(kb_id)
        store.set_chunk_enabled(ids[0], False)
        assert store.vector_version(kb_id) != before  # cached vector matrices reload
        assert search(store, [kb_id], "travel rule") == [ids[1]]
        assert store.load_vectors(kb_id, MODEL)[0].tolist() == [ids[1]]
        store.set_chunk_enabled(ids[0], True)
        assert sorted(search(store, [kb_id], "travel rule")) == ids
        with pytest.raises(NotFound):
            store.set_chunk_enabled(10**9, False)

    def test_document_metadata_is_replaced(self, store: Any, kb_id: int) -> None:
        doc, _ = put(store, kb_id, "/a.txt", ["travel rule"])
        store.set_document_metadata(doc.id, {"tags": ["旅行"], "team": "people"})
        assert store.get_document(doc.id).metadata == {"tags": ["旅行"], "team": "people"}
        store.set_document_metadata(doc.id, {})
        assert store.get_document(doc.id).metadata == {}
        with pytest.raises(NotFound):
            store.set_document_metadata(10**9, {})

    # -- keyword search and filters -------------------------------------------------------
    def test_keyword_search_ranks_by_bm25(self, store: Any, kb_id: int) -> None:
        _, ids = put(store, kb_id, "/a.txt", [
            "员工出差报销需要提交发票和审批单。",
            "新员工入职第一年有十五天年假。",
            "The cafeteria opens at eight in the morning.",
            "Reimbursement of travel expenses requires receipts; travel must be approved.",
        ])
        assert search(store, [kb_id], "报销需要哪些材料")[0] == ids[0]
        assert search(store, [kb_id], "年假有几天")[0] == ids[1]
        assert search(store, [kb_id], "travelling expense receipts")[0] == ids[3]
        assert search(store, [kb_id], "cafeteria opening")[0] == ids[2]
        assert search(store, [kb_id], "quantum chromodynamics") == []
        assert store.keyword_search([kb_id], [], 10, None) == []
        assert store.keyword_search([], ["travel"], 10, None) == []
        scored = store.keyword_search([kb_id], query_terms("travel receipts"), 10, None)
        assert all(s > 0 for _, s in scored)
        assert [s for _, s in scored] == sorted((s for _, s in scored), reverse=True)

    def test_keyword_search_quotes_terms_safely(self, store: Any, kb_id: int) -> None:
        _, ids = put(store, kb_id, "/a.txt", ['he said "quote" and OR NOT near*'])
        # FTS5 query syntax in user input is matched literally, never parsed (or an error)
        assert search(store, [kb_id], 'quote" OR "x') == ids
        assert search(store, [kb_id], "NOT near*") == ids
        assert [c for c, _ in store.keyword_search([kb_id], ["near*", "or"], 5, None)] == ids

    def test_keyword_search_respects_knowledge_bases_and_limit(
        self, store: Any, kb_id: int
    ) -> None:
        ws = store.workspace_id("default")
        other = store.create_kb(ws, "other", MODEL, {}).id
        _, mine = put(store, kb_id, "/a.txt", [f"leave rule {i}" for i in range(5)])
        _, theirs = put(store, other, "/a.txt", ["leave rule elsewhere"])
        assert set(search(store, [kb_id], "leave")) == set(mine)
        assert set(search(store, [other], "leave")) == set(theirs)
        assert set(search(store, [kb_id, other], "leave")) == set(mine + theirs)
        assert len(search(store, [kb_id], "leave", limit=2)) == 2

    def test_term_stats(self, store: Any, kb_id: int) -> None:
        put(store, kb_id, "/a.txt", ["travel policy", "travel receipts", "leave"])
        freqs, total = store.term_stats(["travel", "leav", "absent"])
        assert freqs == {"travel": 2, "leav": 1}
        assert total == 3
        assert store.term_stats([]) == ({}, 0)
        # N counts the chunks indexed now, not the highest id ever given
        for n in range(3):
            put(store, kb_id, "/b.txt", [f"version {n} travel", "more"], content_hash=f"b{n}")
        doc = store.find_document(kb_id, "/a.txt")
        store.delete_document(doc.id)
        assert store.term_stats(["travel"]) == ({"travel": 1}, 2)

    def test_filters(self, store: Any, kb_id: int) -> None:
        hr, hr_ids = put(store, kb_id, "/docs/hr.md", ["leave policy for staff"], fmt="md",
                         metadata={"tags": ["hr", "policy"], "dept": "people", "year": 2024})
        _, fin_ids = put(store, kb_id, "/docs/fin.pdf", ["leave of absence costs"], fmt="pdf",
                           metadata={"tags": ["finance"], "dept": "money", "year": 2023})
        plain, plain_ids = put(store, kb_id, "/docs/x.txt", ["leave the building"])
        every = sorted(hr_ids + fin_ids + plain_ids)

        def found(**kw: Any) -> list[int]:
            filters = SearchFilters(**kw)
            got = sorted(search(store, [kb_id], "leave", filters))
            allowed = store.allowed_chunk_ids([kb_id], filters)
            assert sorted(allowed.tolist()) == got  # vector masks agree with keyword filters
            return got

        assert found() == every
        assert found(document_ids=[hr.id, plain.id]) == sorted(hr_ids + plain_ids)
        assert found(document_ids=[]) == []
        assert found(sources=["/docs/fin.pdf"]) == fin_ids
        assert found(tags=["finance", "nope"]) == fin_ids
        assert found(tags=["policy"]) == hr_ids
        assert found(formats=["md", "txt"]) == sorted(hr_ids + plain_ids)
        assert found(metadata={"dept": "people"}) == hr_ids
        assert found(metadata={"dept": ["people", "money"]}) == sorted(hr_ids + fin_ids)
        assert found(metadata={"year": 2023}) == fin_ids
        assert found(metadata={"dept": "money"}, tags=["hr"]) == []  # fields AND together
        now = datetime.now(UTC)
        assert found(created_after=now - timedelta(hours=1)) == every
        assert found(created_after=now + timedelta(hours=1)) == []
        assert found(created_before=now + timedelta(hours=1)) == every
        assert found(created_before=now - timedelta(hours=1)) == []

    def test_empty_tag_and_metadata_filters_restrict_nothing(
        self, store: Any, kb_id: int
    ) -> None:
        _, hr_ids = put(store, kb_id, "/docs/hr.md", ["leave policy"], fmt="md",
                         metadata={"tags": ["hr"], "dept": "people"})
        _, plain_ids = put(store, kb_id, "/docs/x.txt", ["leave the building"])
        every = sorted(hr_ids + plain_ids)
        for kw in ({"tags": []}, {"metadata": {}}, {"tags": [], "metadata": {}}):
            filters = SearchFilters(**kw)
            assert sorted(search(store, [kb_id], "leave", filters)) == every
            assert sorted(store.allowed_chunk_ids([kb_id], filters).tolist()) == every
        # with another field set, the empty ones still add no condition
        filters = SearchFilters(tags=[], metadata={}, formats=["md"])
        assert sorted(search(store, [kb_id], "leave", filters)) == hr_ids
        assert sorted(store.allowed_chunk_ids([kb_id], filters).tolist()) == hr_ids

    def test_object_valued_metadata_filters_are_refused(self) -> None:
        for value in ({"a": 1}, [{"a": 1}], [[1]]):
            with pytest.raises(ValidationError):
                SearchFilters(metadata={"k": value})
