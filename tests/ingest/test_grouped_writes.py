"""Documents are written in groups, one transaction each: results keep the items' order, a
source taken twice is written twice in order, a document that cannot be written fails alone,
and a failure of the store or of the item source ends the run with its threads."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from zhiku.core.errors import InvalidInput
from zhiku.ingest.chunking import ChunkingOptions
from zhiku.ingest.events import FileResult
from zhiku.ingest.parsers.registry import ParseOptions
from zhiku.ingest.pipeline import GroupLimits, Pipeline, PipelineOptions, SourceItem
from zhiku.service import Zhiku

pytestmark = pytest.mark.database


class Seen:
    """A listener that records what it hears, and on which thread."""

    def __init__(self) -> None:
        self.done: list[FileResult] = []
        self.threads: set[str] = set()

    def file_done(self, result: FileResult) -> None:
        self.done.append(result)
        self.threads.add(threading.current_thread().name)

    def queued(self, count: int) -> None:
        pass

    def embedded(self, count: int) -> None:
        pass


def _pipeline(zk: Zhiku, documents: int) -> Pipeline:
    """A pipeline writing a group every ``documents`` documents (never by time)."""
    options = PipelineOptions(chunking=ChunkingOptions(), parse=ParseOptions(),
                              max_file_bytes=1_000_000, embed_batch_size=4)
    return Pipeline(zk.store, zk.parser, zk.embedder("hashing"), options,
                    limits=GroupLimits(documents=documents, chunks=10_000, seconds=60))


def _ingest_threads() -> list[threading.Thread]:
    """The run's own threads still alive (the embedding stage's)."""
    return [t for t in threading.enumerate() if t.name == "zhiku-embed"]


def _items(n: int, tag: str = "v1") -> Iterator[SourceItem]:
    for i in range(n):
        yield SourceItem(f"doc-{i:03d}.md", data=f"# Doc {i}\n\nword{i} {tag} text.\n".encode())


def test_many_documents_keep_their_order_and_are_all_searchable(zk: Zhiku) -> None:
    zk.create_kb("g", embedder="hashing")
    seen = Seen()
    items = list(_items(150))
    items.insert(70, SourceItem("broken.bin", data=b"\x00\x01\x02 binary"))
    report = zk.ingest_items("g", items, listener=seen)
    assert [r.source for r in report.files] == [i.source for i in items]
    assert [r.source for r in seen.done] == [i.source for i in items]
    assert seen.threads == {"MainThread"}  # listeners hear on the caller's thread
    statuses = {r.source: r.status for r in report.files}
    assert statuses.pop("broken.bin") == "failed"
    assert set(statuses.values()) == {"added"}
    assert zk.stats("g")["g"]["ready"] == 150
    hits = zk.search("g", "word149", mode="keyword", top_k=1)
    assert hits and hits[0].source == "doc-149.md"

    again = zk.ingest_items("g", [*_items(3), SourceItem("doc-001.md", data=b"# Doc 1\n\nnew")])
    assert [r.status for r in again.files] == ["unchanged", "unchanged", "unchanged", "updated"]


def test_a_source_taken_twice_in_one_run_is_written_in_order(zk: Zhiku) -> None:
    zk.create_kb("twice", embedder="hashing")
    items = [SourceItem("a.md", data=b"first alpha"), SourceItem("b.md", data=b"beta"),
             SourceItem("a.md", data=b"second gamma"), SourceItem("a.md", data=b"second gamma")]
    report = zk.ingest_items("twice", items)
    assert [r.status for r in report.files] == ["added", "added", "updated", "unchanged"]
    assert zk.stats("twice")["twice"]["documents"] == 2
    assert zk.search("twice", "gamma", mode="keyword")
    assert not zk.search("twice", "alpha", mode="keyword")


def test_a_document_that_cannot_be_written_fails_alone(zk: Zhiku) -> None:
    kb = zk.create_kb("alone", embedder="hashing")
    store = zk.store
    real = store.replace_document

    def refuse_one(kb_id: int, **fields: object) -> object:
        if fields["source"] == "doc-002.md":
            raise InvalidInput("this document cannot be stored")
        return real(kb_id, **fields)  # type: ignore[arg-type]

    store.replace_document = refuse_one  # type: ignore[method-assign]
    try:
        report = _pipeline(zk, documents=8).run(kb, list(_items(5)))
    finally:
        del store.replace_document
    assert [r.status for r in report.files] == ["added", "added", "failed", "added", "added"]
    assert report.files[2].error == "this document cannot be stored"
    assert zk.stats("alone")["alone"]["documents"] == 5  # four written, one recorded as failed
    assert zk.stats("alone")["alone"]["ready"] == 4


@pytest.mark.parametrize("documents", [1, 2, 64])
def test_a_source_taken_again_after_its_group_was_written_ends_with_its_last_version(
    zk: Zhiku, documents: int
) -> None:
    kb = zk.create_kb("again", embedder="hashing")
    items = [SourceItem("a.md", data=b"first alpha"), SourceItem("b.md", data=b"beta"),
             SourceItem("a.md", data=b"second gamma"), SourceItem("c.md", data=b"delta"),
             SourceItem("a.md", data=b"second gamma")]
    report = _pipeline(zk, documents).run(kb, items)
    assert [r.status for r in report.files] == ["added", "added", "updated", "added", "unchanged"]
    assert zk.stats("again")["again"]["documents"] == 3
    assert zk.search("again", "gamma", mode="keyword")
    assert not zk.search("again", "alpha", mode="keyword")


def test_a_store_failing_in_the_second_group_is_raised_and_the_run_ends(zk: Zhiku) -> None:
    kb = zk.create_kb("boom", embedder="hashing")
    store = zk.store
    real = store.replace_document
    calls = 0

    def fail_in_second_group(kb_id: int, **fields: object) -> object:
        nonlocal calls
        calls += 1
        if calls == 3:  # the first document of the second group
            raise RuntimeError("the disk went away")
        return real(kb_id, **fields)  # type: ignore[arg-type]

    store.replace_document = fail_in_second_group  # type: ignore[method-assign]
    seen = Seen()
    try:
        with pytest.raises(RuntimeError, match="the disk went away"):
            _pipeline(zk, documents=2).run(kb, _items(8), seen)
    finally:
        del store.replace_document
    assert [r.source for r in seen.done] == ["doc-000.md", "doc-001.md"]  # written before it
    assert seen.threads == {"MainThread"}
    assert zk.stats("boom")["boom"]["documents"] == 2  # the failed group is absent, whole
    assert not _ingest_threads()


def test_a_failing_item_source_ends_the_run_and_its_threads(zk: Zhiku) -> None:
    kb = zk.create_kb("listing", embedder="hashing")

    def items() -> Iterator[SourceItem]:
        yield from _items(3)
        raise ValueError("the listing broke")

    with pytest.raises(ValueError, match="the listing broke"):
        _pipeline(zk, documents=2).run(kb, items())
    assert not _ingest_threads()
    # the group full before the failure is written; the one being gathered is not
    assert zk.stats("listing")["listing"]["documents"] == 2
    assert zk.ingest_items("listing", list(_items(3))).files[2].status == "added"
