"""Progress totals stay true: what a run says it will embed is what it embeds, whether the chunks
come from this run's files, a resumed earlier run, or an incremental change."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from zhiku.ingest.embedding import EmbedItem, EmbedStage
from zhiku.ingest.events import FileResult
from zhiku.ingest.pipeline import Pipeline, SourceItem
from zhiku.models.embedders.hashing import HashingEmbedder
from zhiku.service import Zhiku


class Recorder:
    """Counts what a run announces and what it embeds; embedded never runs ahead of queued."""

    def __init__(self) -> None:
        self.queued = 0
        self.embedded_total = 0
        self.files: list[FileResult] = []

    def file_done(self, result: FileResult) -> None:
        self.files.append(result)

    def queued_count(self, count: int) -> None:
        self.queued += count

    def embedded(self, count: int) -> None:
        self.embedded_total += count
        assert self.embedded_total <= self.queued


class Listener:
    """The protocol's three methods over a ``Recorder``."""

    def __init__(self) -> None:
        self.seen = Recorder()

    def file_done(self, result: FileResult) -> None:
        self.seen.file_done(result)

    def queued(self, count: int) -> None:
        self.seen.queued_count(count)

    def embedded(self, count: int) -> None:
        self.seen.embedded(count)


class BrokenEmbedder(HashingEmbedder):
    """Fails every batch, as a run killed before embedding would leave its documents."""

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        raise RuntimeError("embedding service went away")


def write_docs(root: Path, n: int) -> list[Path]:
    root.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = root / f"doc{i}.md"
        body = "\n\n".join(f"Paragraph {j} of document {i} on policy {i * j}." for j in range(30))
        path.write_text(f"# Document {i}\n\n{body}\n", encoding="utf-8")
        paths.append(path)
    return paths


def searchable_chunks(zk: Zhiku, kb: str) -> int:
    return sum(
        sum(1 for c in zk.store.list_chunks(d.id) if c.searchable)
        for d in zk.documents(kb)
    )


def test_totals_are_true_on_first_resumed_and_incremental_runs(tmp_path: Path) -> None:
    with Zhiku() as zk:
        zk.create_kb("p", embedder="hashing")
        paths = write_docs(tmp_path / "docs", 6)
        knowledge_base = zk.kb("p")
        options = zk._pipeline(knowledge_base)._options
        broken = Pipeline(zk.store, zk.registry, BrokenEmbedder(), options)
        with pytest.raises(RuntimeError, match="went away"):
            broken.run(knowledge_base, [SourceItem(str(p.resolve()), path=p) for p in paths[:4]])
        assert {d.status for d in zk.documents("p")} == {"parsed"}
        left = searchable_chunks(zk, "p")
        assert left > 0

        # The rerun resumes the four parsed documents and adds two new files.
        resumed = Listener()
        report = zk.ingest("p", paths, listener=resumed)
        assert resumed.seen.queued == resumed.seen.embedded_total == report.chunks_embedded
        assert report.chunks_embedded == searchable_chunks(zk, "p") > left
        assert {d.status for d in zk.documents("p")} == {"ready"}

        # Nothing changed: nothing to embed, and the bar's total says so.
        unchanged = Listener()
        zk.ingest("p", paths, listener=unchanged)
        assert unchanged.seen.queued == unchanged.seen.embedded_total == 0

        # One changed file: exactly its chunks.
        paths[0].write_text("# Changed\n\nOnly one short paragraph now.\n", encoding="utf-8")
        changed = Listener()
        zk.ingest("p", paths, listener=changed)
        doc = next(d for d in zk.documents("p") if d.source.endswith("doc0.md"))
        expected = sum(1 for c in zk.store.list_chunks(doc.id) if c.searchable)
        assert changed.seen.queued == changed.seen.embedded_total == expected


class HeldStage(EmbedStage):
    """An embedding stage whose worker waits for ``go`` before taking anything, so a test can
    queue items and the end marker first."""

    go = threading.Event()

    def _run(self) -> None:
        self.go.wait(60)
        super()._run()


def test_a_failure_in_the_last_window_is_raised_by_close(tmp_path: Path) -> None:
    """Chunks queued just before ``close()`` are embedded after the end marker was taken; a
    failure there reaches the producer instead of leaving it waiting for the stage."""
    with Zhiku() as zk:
        zk.create_kb("p", embedder="hashing")
        stage = HeldStage(zk.store, zk.kb("p").id, BrokenEmbedder(), 8, lambda n: None)
        stage.start()
        stage.put(EmbedItem(1, [1], ["queued last"]))
        done = threading.Event()
        failure: list[BaseException] = []

        def close() -> None:
            try:
                stage.close()  # queues the end marker behind the item, then waits
            except RuntimeError as exc:
                failure.append(exc)
            done.set()

        threading.Thread(target=close, daemon=True).start()
        while stage._queue.qsize() < 2:  # the item and the end marker
            time.sleep(0.01)
        HeldStage.go.set()
        assert done.wait(60), "close() never returned"
        assert failure and "went away" in str(failure[0])
