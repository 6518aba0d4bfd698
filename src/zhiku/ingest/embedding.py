"""The embedding stage: a background thread that vectorises chunks as documents are written.

It collects chunks from a bounded queue into a window, sorts the window by length (little
padding), embeds in small batches, stores the vectors and marks finished documents ``ready``.
Keyword search works on a document before this stage reaches it.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass

from zhiku.models.embedders import Embedder, embed_texts
from zhiku.store.protocols import Store

_DONE = object()


@dataclass(slots=True)
class EmbedItem:
    """The searchable chunks of one written document."""

    document_id: int
    chunk_ids: list[int]
    texts: list[str]


class EmbedStage:
    """Run with ``start()``, feed with ``put()``, finish with ``close()`` (re-raises failures)."""

    def __init__(
        self,
        store: Store,
        kb_id: int,
        embedder: Embedder,
        batch_size: int,
        on_embedded: Callable[[int], None],
        window: int = 256,
        on_queued: Callable[[int], None] | None = None,
    ) -> None:
        self._store = store
        self._kb_id = kb_id
        self._embedder = embedder
        self._batch_size = batch_size
        self._on_embedded = on_embedded
        self._on_queued = on_queued
        self._window = window
        self._queue: queue.Queue[object] = queue.Queue(maxsize=64)
        self._thread = threading.Thread(target=self._run, name="zhiku-embed", daemon=True)
        self._error: BaseException | None = None
        self.embedded = 0

    def start(self) -> None:
        """Start the worker thread."""
        self._thread.start()

    def put(self, item: EmbedItem) -> None:
        """Queue a document's chunks (blocks when the worker is far behind: bounded memory)."""
        if self._error is not None:
            raise self._error
        self._queue.put(item)
        if self._on_queued is not None:
            self._on_queued(len(item.texts))

    def close(self) -> None:
        """Wait for every queued chunk to be embedded."""
        self._queue.put(_DONE)
        self._thread.join()
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        done = False
        try:
            pending: list[EmbedItem] = []
            size = 0
            while True:
                item = self._queue.get()
                if item is _DONE:
                    done = True
                    break
                assert isinstance(item, EmbedItem)
                pending.append(item)
                size += len(item.texts)
                if size >= self._window or self._queue.empty():
                    self._flush(pending)
                    pending, size = [], 0
            self._flush(pending)
        except BaseException as exc:  # handed to the producer thread by close()/put()
            self._error = exc
            # drain until the producer's close() (unless the failure came after it: the last
            # window is embedded once close() was called, and nothing more will come)
            while not done:
                done = self._queue.get() is _DONE

    def _flush(self, items: list[EmbedItem]) -> None:
        if not items:
            return
        ids = [cid for item in items for cid in item.chunk_ids]
        texts = [text for item in items for text in item.texts]
        if texts:
            vectors = embed_texts(self._embedder, texts, self._batch_size)
            self._store.add_vectors(self._kb_id, self._embedder.model_id, ids, vectors)
        self._store.mark_ready([item.document_id for item in items], self._embedder.model_id)
        self.embedded += len(texts)
        self._on_embedded(len(texts))
