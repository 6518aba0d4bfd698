"""Restricted documents are enforced inside the store's queries: search (every mode), graph
modes, hydration, listings and gets return only what the reader may read, and top-k stays full
when the best-scoring chunks are all restricted."""

from __future__ import annotations

from pathlib import Path

import pytest

from zhiku.core.errors import NotFound
from zhiku.permissions.context import reading_as
from zhiku.retrieval.ann import AnnVectorIndex
from zhiku.service import Zhiku
from zhiku.store.doc_query import DocumentQuery
from zhiku.store.reader import EVERYTHING, PUBLIC, Reader

SECRET = "salary bands payroll secret quarterly salary review"
OPEN = "payroll calendar: salary is paid on the last day"


@pytest.fixture
def corpus(zk: Zhiku, tmp_path: Path) -> dict[str, int]:
    """Eight restricted HR documents that match the query best, four public ones."""
    zk.create_kb("kb", embedder="hashing")
    hr = zk.permissions.create_group("hr").id
    zk.permissions.create_group("sales")
    secret_dir, open_dir = tmp_path / "hr", tmp_path / "open"
    secret_dir.mkdir()
    open_dir.mkdir()
    for n in range(8):
        (secret_dir / f"hr{n}.txt").write_text(f"{SECRET} {SECRET} number {n}")
    for n in range(4):
        (open_dir / f"faq{n}.txt").write_text(f"{OPEN} faq {n}")
    with reading_as(EVERYTHING):
        zk.ingest("kb", [secret_dir], groups=["hr"])
        zk.ingest("kb", [open_dir])
    return {"hr": hr}


@pytest.mark.parametrize("mode", ["keyword", "vector", "hybrid", "local", "mix"])
def test_public_reader_gets_a_full_top_k_of_readable_hits(
    zk: Zhiku, corpus: dict[str, int], mode: str
) -> None:
    hits = zk.search("kb", "salary bands payroll secret", top_k=4, mode=mode,  # type: ignore[arg-type]
                     reader=PUBLIC)
    assert all("faq" in h.source for h in hits)
    if mode in ("keyword", "vector", "hybrid"):
        assert len(hits) == 4  # the top 8 by score are restricted: the window still fills
    everyone = zk.search("kb", "salary bands payroll secret", top_k=4, mode=mode,  # type: ignore[arg-type]
                         reader=EVERYTHING)
    if mode in ("keyword", "vector", "hybrid"):
        assert any("hr" in Path(h.source).name for h in everyone)


def test_group_member_reads_its_groups_documents(zk: Zhiku, corpus: dict[str, int]) -> None:
    hits = zk.search("kb", "salary bands payroll secret", top_k=3, mode="keyword",
                     reader=Reader.of([corpus["hr"]]))
    assert [Path(h.source).name[:2] for h in hits] == ["hr", "hr", "hr"]
    other = zk.permissions.group("sales").id
    hits = zk.search("kb", "salary bands payroll secret", top_k=3, mode="hybrid",
                     reader=Reader.of([other]))
    assert all("faq" in h.source for h in hits)


def test_the_current_reader_defaults_to_public(zk: Zhiku, corpus: dict[str, int]) -> None:
    hits = zk.search("kb", "salary bands payroll secret", top_k=12, mode="keyword")
    assert hits and all(SECRET not in h.text for h in hits)
    with reading_as(Reader.of([corpus["hr"]])):
        assert any(SECRET in h.text for h in zk.search("kb", "salary bands", top_k=12))


def test_documents_listing_get_and_chunks_hide_restricted(
    zk: Zhiku, corpus: dict[str, int]
) -> None:
    kb = zk.kb("kb")
    docs, total = zk.store.query_documents(kb.id, DocumentQuery(), PUBLIC)
    assert total == 4 and all("faq" in d.source for d in docs)
    _, all_total = zk.store.query_documents(kb.id, DocumentQuery(), EVERYTHING)
    assert all_total == 12
    with reading_as(EVERYTHING):
        secret = next(d for d in zk.documents("kb") if d.restricted)
        chunk = zk.chunks("kb", secret.id)[0]
        assert zk.permissions.groups_of(secret) == [corpus["hr"]]
    assert len(zk.documents("kb")) == 4
    with pytest.raises(NotFound):
        zk.document("kb", secret.id)
    with pytest.raises(NotFound):
        zk.chunk("kb", chunk.id)
    with reading_as(Reader.of([corpus["hr"]])):
        assert zk.document("kb", secret.id).id == secret.id


def test_restriction_survives_reingest_and_deleting_the_group(
    zk: Zhiku, corpus: dict[str, int], tmp_path: Path
) -> None:
    path = tmp_path / "hr" / "hr0.txt"
    path.write_text(f"{SECRET} changed text")
    with reading_as(EVERYTHING):
        zk.ingest("kb", [path])  # no groups named: the replaced document keeps its own
        doc = zk.document("kb", str(path))
        assert zk.permissions.groups_of(doc) == [corpus["hr"]]
        zk.permissions.delete_group("hr")
        doc = zk.document("kb", str(path))
    assert doc.restricted and zk.permissions.groups_of(doc) == []
    hits = zk.search("kb", "salary bands payroll secret", top_k=12, reader=PUBLIC)
    assert all(SECRET not in h.text for h in hits)


def test_opening_a_document_to_everyone(zk: Zhiku, corpus: dict[str, int]) -> None:
    with reading_as(EVERYTHING):
        secret = next(d for d in zk.documents("kb") if d.restricted)
        zk.permissions.set_document_groups("kb", [secret.id], None)
    assert zk.document("kb", secret.id).restricted is False
    entries = zk.audit_entries()
    assert "document.groups" in {e.action for e in entries.entries}


def test_vector_searcher_masks_before_top_k(zk: Zhiku, corpus: dict[str, int]) -> None:
    """The vector searcher itself (SQLite's matrix, PostgreSQL's HNSW walk with the reader in
    its WHERE) returns ``limit`` readable chunks when the nearest ones are restricted."""
    kb = zk.kb("kb")
    embedder = zk.embedder(kb.embedder)
    query = embedder.embed_batch([SECRET])[0]
    searcher = zk.vectors
    if hasattr(searcher, "exact_below"):
        searcher.exact_below = 0  # through the HNSW index, not the exact scan
    with reading_as(EVERYTHING):
        closed = {c.id for d in zk.documents("kb") if d.restricted for c in zk.chunks("kb", d.id)}
    found = searcher.search(kb.id, embedder.model_id, query, 4, None, PUBLIC)
    assert len(found) == 4 and not {cid for cid, _ in found} & closed
    everyone = searcher.search(kb.id, embedder.model_id, query, 4, None, EVERYTHING)
    assert {cid for cid, _ in everyone} <= closed
    member = searcher.search(kb.id, embedder.model_id, query, 4, None, Reader.of([corpus["hr"]]))
    assert {cid for cid, _ in member} <= closed


@pytest.mark.parametrize("mode", ["vector", "hybrid"])
def test_the_approximate_index_reads_as_the_reader_too(
    zk: Zhiku, corpus: dict[str, int], mode: str
) -> None:
    """With the HNSW index forced on (every knowledge base above its threshold), restricted
    chunks are never candidates and the window still fills."""
    pytest.importorskip("usearch")
    with Zhiku(zk.settings.model_copy(update={"ann_min_chunks": 1})) as ann:
        if isinstance(ann.vectors, AnnVectorIndex):  # SQLite: the graph, built now
            kb = ann.kb("kb")
            assert ann.vectors.ensure(kb.id, ann.embedder(kb.embedder).model_id)
        hits = ann.search("kb", "salary bands payroll secret", top_k=4, mode=mode,  # type: ignore[arg-type]
                          reader=PUBLIC)
        assert len(hits) == 4 and all("faq" in h.source for h in hits)
        mine = ann.search("kb", "salary bands payroll secret", top_k=3, mode=mode,  # type: ignore[arg-type]
                          reader=Reader.of([corpus["hr"]]))
        assert all(Path(h.source).name.startswith("hr") for h in mine)
