"""The Python API: knowledge bases, incremental and safe ingestion, delete, embedder switch.

Semantics do not matter here, so knowledge bases use the fast ``hashing`` embedder.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from dbcheck import count, fulltext_rows, raw_database, texts_with_term
from zhiku.core.errors import Conflict, InvalidInput, NotFound
from zhiku.ingest.events import FileResult
from zhiku.ingest.pipeline import Pipeline, SourceItem
from zhiku.models.embedders.hashing import HashingEmbedder
from zhiku.service import Zhiku

KB = "handbook"
POLICY_V1 = """# Travel policy

## Booking

Book economy class for flights under six hours. Use the travel portal.

## Reimbursement

Submit receipts within thirty days. 报销需要提交发票原件。
"""
POLICY_V2 = """# Travel policy

## Booking

Business class is allowed for flights over eight hours. Bookings go through the agency.

## Per diem

Meals are covered up to fifty euros a day. 餐费补贴每天一百元。
"""


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding=encoding)
    return path


def counts(zk: Zhiku, doc_id: int | None = None) -> dict[str, int]:
    """Raw row counts straight from the database (not through the API under test)."""
    with raw_database(zk.settings) as db:
        where = "" if doc_id is None else f" WHERE document_id = {int(doc_id)}"
        chunk_ids = f"SELECT id FROM chunks{where}"
        return {
            "chunks": count(db, f"SELECT count(*) FROM chunks{where}"),
            "vectors": count(
                db, f"SELECT count(*) FROM embeddings WHERE chunk_id IN ({chunk_ids})"
            ),
            "fts": fulltext_rows(db, chunk_ids),
            "all_vectors": count(db, "SELECT count(*) FROM embeddings"),
            "all_fts": fulltext_rows(db),
            "searchable": count(
                db, f"SELECT count(*) FROM chunks{where or ' WHERE 1 = 1'} AND searchable = 1"
            ),
        }


@pytest.fixture
def kb(zk: Zhiku) -> str:
    zk.create_kb(KB, embedder="hashing")
    return KB


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    root = tmp_path / "docs"
    write(root / "travel.md", POLICY_V1)
    write(root / "leave.txt", "New employees get fifteen days of annual leave.\n\n年假十五天。")
    write(root / "sub" / "faq.csv", "question,answer\nWho approves leave?,Your manager.\n")
    write(root / ".hidden" / "secret.txt", "never ingested")
    return root


def sources(zk: Zhiku, kb: str) -> list[str]:
    return [d.source for d in zk.documents(kb)]


# -- knowledge bases ------------------------------------------------------------------------
def test_knowledge_base_lifecycle(zk: Zhiku) -> None:
    created = zk.create_kb("hr", embedder="hashing", chunk_tokens=64, parent_child=True)
    assert (created.name, created.embedder) == ("hr", "hashing")
    assert created.settings == {"chunk_tokens": 64, "parent_child": True}
    assert zk.kb("hr") == created
    with pytest.raises(Conflict):
        zk.create_kb("hr", embedder="hashing")
    for bad in ("", "a/b", "x" * 129):
        with pytest.raises(InvalidInput):
            zk.create_kb(bad, embedder="hashing")
    with pytest.raises(InvalidInput, match="unknown knowledge base settings"):
        zk.create_kb("other", embedder="hashing", colour="red")
    with pytest.raises(InvalidInput, match="unknown embedder"):
        zk.create_kb("other", embedder="no-such-model")
    assert [k.name for k in zk.list_kbs()] == ["hr"]
    zk.delete_kb("hr")
    assert zk.list_kbs() == []
    with pytest.raises(NotFound):
        zk.kb("hr")


def test_kb_settings_are_checked_once_and_merged(zk: Zhiku) -> None:
    zk.create_kb("hr", embedder="hashing", chunk_tokens=64)
    changed = zk.update_kb_settings("hr", chunk_overlap=8, graph=True)
    assert changed.settings == {"chunk_tokens": 64, "chunk_overlap": 8, "graph": True}
    assert zk.update_kb_settings("hr", chunk_tokens=None).settings == {
        "chunk_overlap": 8, "graph": True}  # None: back to the server's default
    bad: list[dict[str, object]] = [
        {"colour": "red"}, {"chunk_tokens": 0}, {"chunk_tokens": "64"}, {"graph": "yes"},
        {"rerank_top_n": 201}, {"rerank_top_n": True}, {"reranker": ""}, {"chunk_overlap": -1},
    ]
    for changes in bad:
        with pytest.raises(InvalidInput):
            zk.update_kb_settings("hr", **changes)
        with pytest.raises(InvalidInput):
            zk.create_kb("other", embedder="hashing", **changes)
    with pytest.raises(InvalidInput):
        zk.create_kb("other", embedder="hashing", chunk_tokens=None)  # unset only on update
    assert zk.kb("hr").settings == {"chunk_overlap": 8, "graph": True}
    with pytest.raises(NotFound):
        zk.update_kb_settings("nope", graph=True)


def test_document_and_chunk_edits(zk: Zhiku, kb: str, docs: Path) -> None:
    zk.ingest(kb, [docs / "leave.txt", docs / "travel.md"])
    leave = zk.document(kb, str(docs / "leave.txt"))
    doc = zk.set_document_metadata(kb, leave.id, tags=["hr"])
    assert doc.metadata == {**leave.metadata, "tags": ["hr"]}
    assert zk.set_document_metadata(kb, leave.id, {"team": "people"}).metadata == {
        "team": "people"}
    assert [h.document_id for h in zk.search(kb, "annual leave", filters={
        "metadata": {"team": "people"}})] == [leave.id]

    chunk = zk.chunks(kb, leave.id)[0]
    version = zk.store.vector_version(zk.kb(kb).id)
    assert zk.set_chunk_enabled(kb, chunk.id, False).enabled is False
    assert zk.store.vector_version(zk.kb(kb).id) != version  # cached vectors reload
    assert all(h.chunk_id != chunk.id for h in zk.search(kb, "annual leave"))
    assert zk.set_chunk_enabled(kb, chunk.id, True).enabled is True

    edited = zk.edit_chunk(kb, chunk.id, "Interns get ten days of holiday.")
    assert edited.text == "Interns get ten days of holiday."
    assert zk.document(kb, leave.id).status == "parsed"  # its vector is made again later
    assert zk.search(kb, "interns holiday", mode="keyword")[0].chunk_id == chunk.id
    assert zk.embed_pending(kb).chunks_embedded == 1
    assert zk.document(kb, leave.id).status == "ready"
    assert zk.search(kb, "interns holiday", mode="vector")[0].chunk_id == chunk.id
    with pytest.raises(InvalidInput):
        zk.edit_chunk(kb, chunk.id, "  ")

    zk.create_kb("other", embedder="hashing")
    for edit in (lambda: zk.set_chunk_enabled("other", chunk.id, False),
                 lambda: zk.edit_chunk("other", chunk.id, "x"),
                 lambda: zk.chunk(kb, 10**9),
                 lambda: zk.set_document_metadata("other", leave.id, {})):
        with pytest.raises(NotFound):
            edit()


def test_default_embedder_is_the_bundled_model(zk: Zhiku) -> None:
    assert zk.create_kb("default-model").embedder == "minilm"


def test_delete_kb_removes_everything_it_held(zk: Zhiku, kb: str, docs: Path) -> None:
    zk.create_kb("other", embedder="hashing")
    zk.ingest("other", [docs / "leave.txt"])
    zk.ingest(kb, [docs])
    zk.delete_kb(kb)
    other_doc = zk.documents("other")[0]
    c = counts(zk)
    assert c["chunks"] == c["all_fts"] == c["all_vectors"] == len(zk.chunks("other", other_doc.id))
    assert zk.search("other", "annual leave")
    with pytest.raises(NotFound):
        zk.search(kb, "annual leave")


# -- ingestion ------------------------------------------------------------------------------
def test_ingest_folder_recursively_with_absolute_sources(zk: Zhiku, kb: str, docs: Path) -> None:
    report = zk.ingest(kb, [docs], metadata={"tags": ["hr"]})
    assert report.count("added") == 3 and not report.failed
    expected = sorted(str((docs / p).resolve()) for p in ("travel.md", "leave.txt", "sub/faq.csv"))
    assert sources(zk, kb) == expected
    assert all(d.status == "ready" and d.metadata["tags"] == ["hr"] for d in zk.documents(kb))
    stats = zk.stats(kb)[kb]
    assert stats["documents"] == stats["ready"] == 3
    assert stats["chunks"] == stats["embedded"] == report.chunks_embedded > 0
    travel = zk.document(kb, str(docs / "travel.md"))
    assert (travel.title, travel.format) == ("Travel policy", "md")
    assert zk.document(kb, travel.id) == travel == zk.document(kb, str(travel.id))
    paths = {tuple(c.heading_path) for c in zk.chunks(kb, travel.id)}
    assert paths == {("Travel policy", "Booking"), ("Travel policy", "Reimbursement")}
    with pytest.raises(NotFound):
        zk.document(kb, "/no/such/file.txt")


def test_ingest_files_and_globs(zk: Zhiku, kb: str, docs: Path) -> None:
    report = zk.ingest(kb, [str(docs / "**" / "*.csv"), docs / "leave.txt"])
    assert sorted(Path(f.source).name for f in report.files) == ["faq.csv", "leave.txt"]
    with pytest.raises(NotFound):
        zk.ingest(kb, [docs / "missing.txt"])
    with pytest.raises(NotFound):
        zk.ingest(kb, [str(docs / "*.nothing")])


def test_reingesting_unchanged_files_is_a_no_op(zk: Zhiku, kb: str, docs: Path) -> None:
    zk.ingest(kb, [docs])
    before = {d.id: d for d in zk.documents(kb)}
    chunk_ids = {d.id: [c.id for c in zk.chunks(kb, d.id)] for d in before.values()}
    os.utime(docs / "travel.md", (time.time() + 100, time.time() + 100))  # newer, same bytes
    report = zk.ingest(kb, [docs])
    assert [f.status for f in report.files] == ["unchanged"] * 3
    assert report.chunks_embedded == 0
    assert {f.document_id for f in report.files} == set(before)
    after = {d.id: d for d in zk.documents(kb)}
    assert after == before  # same rows, same updated_at
    assert {d: [c.id for c in zk.chunks(kb, d)] for d in after} == chunk_ids


def test_a_changed_file_replaces_its_chunks(zk: Zhiku, kb: str, docs: Path) -> None:
    zk.ingest(kb, [docs])
    old = zk.document(kb, str(docs / "travel.md"))
    old_texts = [c.text for c in zk.chunks(kb, old.id)]
    assert zk.search(kb, "receipts within thirty days", mode="keyword")
    write(docs / "travel.md", POLICY_V2)
    report = zk.ingest(kb, [docs])
    assert sorted(f.status for f in report.files) == ["unchanged", "unchanged", "updated"]
    new = zk.document(kb, str(docs / "travel.md"))
    assert new.content_hash != old.content_hash
    new_chunks = zk.chunks(kb, new.id)
    assert not {c.text for c in new_chunks} & set(old_texts)
    assert {tuple(c.heading_path) for c in new_chunks} == {
        ("Travel policy", "Booking"), ("Travel policy", "Per diem")}
    assert len(zk.documents(kb)) == 3
    for mode in ("keyword", "vector", "hybrid"):
        hits = zk.search(kb, "receipts within thirty days 发票原件", mode=mode, top_k=10)
        assert all("thirty days" not in h.text and "发票原件" not in h.text for h in hits), mode
    assert "fifty euros" in zk.search(kb, "meals per diem euros", mode="keyword")[0].text
    c = counts(zk)
    assert c["all_vectors"] == c["all_fts"] == c["searchable"]  # nothing of v1 left behind
    assert new.status == "ready"


def test_replacement_is_atomic_for_concurrent_readers(zk: Zhiku, kb: str, tmp_path: Path) -> None:
    path = write(tmp_path / "rules.txt", "\n\n".join(f"Rule alpha {i} applies." for i in range(40)))
    zk.ingest(kb, [path])
    old_set = frozenset(f"Rule alpha {i} applies." for i in range(40))
    new_set = frozenset(f"Rule beta {i} applies." for i in range(40))
    seen: set[frozenset[str]] = set()
    stop = threading.Event()

    def reader() -> None:
        with raw_database(zk.settings) as db:  # another connection, reading the raw index
            while not stop.is_set():
                texts = texts_with_term(db, "rule")
                seen.add(frozenset(s for text in texts for s in _sentences(text)))

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for version in range(6):
            word = "beta" if version % 2 == 0 else "alpha"
            write(path, "\n\n".join(f"Rule {word} {i} applies." for i in range(40)))
            zk.ingest(kb, [path])
    finally:
        stop.set()
        thread.join()
    assert seen <= {old_set, new_set}, "a reader saw a half-replaced document"
    assert new_set in seen or old_set in seen


def _sentences(text: str) -> list[str]:
    return [s.strip() + "." for s in text.split(".") if s.strip()]


def test_keyword_search_works_before_embeddings_exist(zk: Zhiku, kb: str, docs: Path) -> None:
    """A document is keyword-searchable as soon as it is parsed; vectors come later."""
    release = threading.Event()

    class GatedEmbedder(HashingEmbedder):
        def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
            assert release.wait(30), "the test never released the embedder"
            return super().embed_batch(texts)

    checked: list[str] = []

    class Probe:
        def file_done(self, result: FileResult) -> None:
            assert result.status == "added" and result.document_id is not None
            doc = zk.store.get_document(result.document_id)
            assert doc.status == "parsed"  # written, not yet embedded
            c = counts(zk, doc.id)
            assert c["vectors"] == 0 and c["fts"] == c["searchable"] > 0
            hits = zk.search(kb, "fifteen days annual leave", mode="keyword")
            assert hits and hits[0].document_id == doc.id
            hybrid = zk.search(kb, "fifteen days annual leave")  # no vectors yet: still works
            assert hybrid[0].document_id == doc.id and hybrid[0].scores["vector"] is None
            checked.append(doc.source)
            release.set()

        def queued(self, count: int) -> None:
            pass

        def embedded(self, count: int) -> None:
            pass

    knowledge_base = zk.kb(kb)
    options = zk._pipeline(knowledge_base)._options
    pipeline = Pipeline(zk.store, zk.registry, GatedEmbedder(), options)
    report = pipeline.run(knowledge_base, [SourceItem(str(docs / "leave.txt"),
                                                      path=docs / "leave.txt")], Probe())
    assert checked == [str(docs / "leave.txt")]
    assert report.chunks_embedded > 0
    doc = zk.documents(kb)[0]
    assert doc.status == "ready"
    c = counts(zk, doc.id)
    assert c["vectors"] == c["searchable"]
    assert zk.search(kb, "fifteen days annual leave", mode="vector")[0].document_id == doc.id


def test_delete_document_removes_chunks_vectors_and_full_text(
    zk: Zhiku, kb: str, docs: Path
) -> None:
    zk.ingest(kb, [docs])
    travel = zk.document(kb, str(docs / "travel.md"))
    before = counts(zk, travel.id)
    assert before["chunks"] > 0 and before["vectors"] > 0 and before["fts"] > 0
    total = counts(zk)
    assert zk.search(kb, "economy class flights", mode="vector")[0].document_id == travel.id
    deleted = zk.delete_document(kb, str(docs / "travel.md"))
    assert deleted.id == travel.id
    after = counts(zk, travel.id)
    assert after == {**after, "chunks": 0, "vectors": 0, "fts": 0}
    total_after = counts(zk)
    assert total_after["all_vectors"] == total["all_vectors"] - before["vectors"]
    assert total_after["all_fts"] == total["all_fts"] - before["fts"]
    for mode in ("keyword", "vector", "hybrid"):
        assert all(h.document_id != travel.id for h in zk.search(kb, "economy class", mode=mode))
    with pytest.raises(NotFound):
        zk.delete_document(kb, travel.id)
    # by id, too; and a deleted file comes back as "added" when ingested again
    leave = zk.document(kb, str(docs / "leave.txt"))
    zk.delete_document(kb, leave.id)
    assert sources(zk, kb) == [str((docs / "sub" / "faq.csv").resolve())]
    again = zk.ingest(kb, [docs / "travel.md"])
    assert [f.status for f in again.files] == ["added"]


def test_documents_of_another_kb_are_not_reachable(zk: Zhiku, kb: str, docs: Path) -> None:
    zk.create_kb("other", embedder="hashing")
    zk.ingest("other", [docs / "leave.txt"])
    foreign = zk.documents("other")[0]
    with pytest.raises(NotFound):
        zk.document(kb, foreign.id)
    with pytest.raises(NotFound):
        zk.delete_document(kb, foreign.id)
    assert zk.documents("other") == [foreign]


def test_ingest_items_from_memory(zk: Zhiku, kb: str) -> None:
    report = zk.ingest_items(kb, [
        SourceItem("upload://notes.md", data=b"# Notes\n\nThe wifi password rotates monthly.",
                   metadata={"tags": ["it"]}),
        SourceItem("upload://empty.txt", data=b""),
    ])
    assert [f.status for f in report.files] == ["added", "failed"]
    hit = zk.search(kb, "wifi password", filters={"tags": ["it"]})[0]
    assert hit.source == "upload://notes.md" and hit.title == "Notes"


def test_what_a_run_embeds_besides_its_own_files(zk: Zhiku, kb: str) -> None:
    """A document left ``parsed`` (here: an edited chunk lost its vector) is embedded by a run
    that sweeps, or by one given the same file again; a run that does not sweep leaves the other
    documents alone (a queued upload's first try: another worker may be embedding them)."""
    notes = SourceItem("upload://notes.txt", data=b"The wifi password rotates every month.")
    zk.ingest_items(kb, [notes])
    doc = zk.document(kb, "upload://notes.txt")
    chunk = zk.store.list_chunks(doc.id)[0]

    def stall() -> None:
        zk.store.update_chunk_text(chunk.id, "The wifi password rotates every week.",
                                   token_count=8, terms=["wifi", "password", "week"])
        assert zk.store.get_document(doc.id).status == "parsed"

    stall()
    other = SourceItem("upload://other.txt", data=b"Printers are on the second floor.")
    zk.ingest_items(kb, [other], sweep="none")
    assert zk.store.get_document(doc.id).status == "parsed"
    assert [f.status for f in zk.ingest_items(kb, [notes], sweep="none").files] == ["unchanged"]
    assert zk.store.get_document(doc.id).status == "ready"
    assert count(zk.store.db, "SELECT count(*) FROM embeddings WHERE chunk_id = ?",
                 (chunk.id,)) == 1
    stall()
    zk.ingest_items(kb, [], sweep="parsed")
    assert zk.store.get_document(doc.id).status == "ready"


def test_faq_answer_comes_back_for_its_question(zk: Zhiku, kb: str, tmp_path: Path) -> None:
    faq = write(tmp_path / "faq.csv", "问题,答案\n如何重置密码？,在设置页点击重置密码。\n"
                "发票多久开出？,三个工作日内开出。\nWho approves leave?,Your line manager.\n",
                encoding="gb18030")
    zk.ingest(kb, [faq])
    hit = zk.search(kb, "密码怎么重置", top_k=1)[0]
    assert hit.matched_text == "如何重置密码？"
    assert hit.text == "如何重置密码？\n在设置页点击重置密码。"
    hit = zk.search(kb, "who approves my leave", top_k=1)[0]
    assert "Your line manager." in hit.text
    assert zk.stats(kb)[kb]["chunks"] == 3  # one searchable chunk per pair


def test_parent_child_returns_the_enclosing_section(zk: Zhiku, tmp_path: Path) -> None:
    zk.create_kb("pc", embedder="hashing", chunk_tokens=24, chunk_overlap=0, parent_child=True)
    body = " ".join(f"Clause {i} covers case number {i} of the travel policy." for i in range(12))
    text = f"# Policy\n\n## Travel\n\n{body}\n\n## Leave\n\nTen days.\n"
    path = write(tmp_path / "policy.md", text)
    zk.ingest("pc", [path])
    hits = zk.search("pc", "clause 7 case number 7", top_k=3)
    assert "Clause 7 covers case number 7" in hits[0].matched_text
    assert hits[0].text == body  # the whole section comes back as context
    assert hits[0].heading_path == ["Policy", "Travel"]
    assert len({h.text for h in hits}) == len(hits)  # one hit per section


def test_set_embedder_reembeds_and_search_keeps_working(zk: Zhiku, kb: str, docs: Path) -> None:
    zk.ingest(kb, [docs])
    n_chunks = zk.stats(kb)[kb]["chunks"]
    during: list[str] = []

    class Probe:
        def file_done(self, result: FileResult) -> None:
            pass

        def queued(self, count: int) -> None:
            pass

        def embedded(self, count: int) -> None:
            # mid-way: the knowledge base still answers from the old model's vectors
            during.append(zk.kb(kb).embedder)
            hits = zk.search(kb, "economy class flights", mode="vector")
            assert hits and hits[0].source.endswith("travel.md")

    report = zk.set_embedder(kb, "hashing-512", listener=Probe())
    assert report.chunks_embedded == n_chunks
    assert during and set(during) == {"hashing"}
    assert zk.kb(kb).embedder == "hashing-512"
    with raw_database(zk.settings) as db:
        models = {r[0]: r[1] for r in db.conn.execute(
            "SELECT model, count(*) FROM embeddings GROUP BY model")}
        dims = {r[0] for r in db.conn.execute("SELECT DISTINCT dim FROM embeddings")}
    assert models == {"hashing-512": n_chunks} and dims == {512}
    hits = zk.search(kb, "economy class flights", mode="vector")
    assert hits[0].source.endswith("travel.md") and hits[0].scores["vector"] is not None
    # new documents are embedded with the new model
    zk.ingest(kb, [write(docs / "new.txt", "Parking permits are issued by facilities.")])
    assert zk.stats(kb)[kb]["embedded"] == zk.stats(kb)[kb]["chunks"]
    with pytest.raises(InvalidInput):
        zk.set_embedder(kb, "no-such-model")
    assert zk.kb(kb).embedder == "hashing-512"


def test_search_and_ask_across_knowledge_bases(zk: Zhiku, tmp_path: Path) -> None:
    zk.create_kb("hr", embedder="hashing")
    zk.create_kb("facilities", embedder="hashing-512")  # another model, another dimension
    zk.ingest("hr", [write(tmp_path / "leave.md", "# Leave\n\nAnnual leave is fifteen days.")])
    zk.ingest("facilities", [write(tmp_path / "parking.md",
                                   "# Parking\n\nThe parking garage opens at seven.")])
    kb_ids = {zk.kb("hr").id: "leave.md", zk.kb("facilities").id: "parking.md"}
    for query, expected in (("annual leave days", "leave.md"), ("parking garage", "parking.md")):
        for mode in ("hybrid", "keyword", "vector"):
            top = zk.search(["hr", "facilities"], query, mode=mode)[0]
            assert Path(top.source).name == expected == kb_ids[top.kb_id], (query, mode)
    assert {Path(h.source).name for h in zk.search(["hr", "facilities"], "leave parking")} == {
        "leave.md", "parking.md"}
    assert zk.search("hr", "parking garage", mode="keyword") == []
    answer = zk.ask(["hr", "facilities"], "When does the parking garage open?")
    assert not answer.refused and answer.citations[0].source.endswith("parking.md")


def test_deleting_a_document_drops_its_stored_original(zk: Zhiku, kb: str, tmp_path: Path) -> None:
    """The same on every face: the HTTP API and the Python API both garbage-collect the stored
    original once no document refers to it."""
    from zhiku.ingest import originals

    data = b"# Leave\n\nNew employees get fifteen days of annual leave.\n"
    path = tmp_path / "leave.md"
    path.write_bytes(data)
    zk.ingest(kb, [path])
    with zk.db.write() as conn:  # as an upload or a URL fetch stores it
        sha = originals.put(conn, data, "text/markdown")
    doc = zk.documents(kb)[0]
    assert doc.content_hash == sha and zk.original(kb, doc.id).data == data
    zk.delete_document(kb, doc.id)
    with pytest.raises(NotFound):
        originals.get(zk.db, sha)
