"""Data for bench/pg_scale.py: a knowledge base of N chunks of Chinese news, built into SQLite.

The first ``HELD_OUT`` articles of the corpus are never ingested (their first sentences are the
queries). The rest are ingested as they are; past the end of the corpus (68,798 articles, about
237k chunks) come *remixes*: round r takes each article again, replaces every other sentence
with a sentence of a random recent article and shuffles the order (seeded), so the text keeps the
corpus's vocabulary and term statistics without repeating a chunk.

Documents go through the product's own steps (txt parser, chunker, analyzer, hashing embedder)
in worker processes, and are written through ``SqliteStore.replace_document`` and
``add_vectors``, as the pipeline writes them, without its per-file bookkeeping.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from _common import news_articles
from zhiku.core.settings import Settings
from zhiku.ingest.chunking import ChunkingOptions, chunk_document
from zhiku.ingest.parsers.registry import ParseOptions, default_registry
from zhiku.models.embedders import make_embedder
from zhiku.service import Zhiku
from zhiku.store.records import NewChunk
from zhiku.text.indexing import index_text
from zhiku.text.tokenize import analyze

HELD_OUT = 300
EMBEDDER = "hashing"  # 256-d feature hashing: vectors cost nothing, the search is what we time
_SENTENCE = re.compile(r"[^。！？!?]+[。！？!?]?")


_DATELINE = re.compile(r"^[^，。]{0,40}(?:消息|电|讯)[）)]?[，：:\s]*")


def queries(count: int) -> list[str]:
    """The first sentence (≤ 30 characters) of each held-out article, after its dateline
    ("IT之家 8 月 16 日消息，", "中新网海口7月25日电 "): what the article is about, not the
    boilerplate every article of a source shares."""
    out: list[str] = []
    for article in news_articles(min(count, HELD_OUT)):
        body = _DATELINE.sub("", article.split("正文：", 1)[-1].strip(), count=1)
        first = body.split("。", 1)[0].strip()
        out.append(first[:30] or body[:30])
    return out


def articles() -> Iterator[tuple[str, str]]:
    """(source, text): the corpus after the held-out articles, then remix rounds, endlessly."""
    for n, text in enumerate(news_articles(skip=HELD_OUT)):
        yield f"news/{n:06d}.txt", text
    rnd = 1
    while True:
        rng = random.Random(rnd)
        window: deque[list[str]] = deque(maxlen=500)
        for n, text in enumerate(news_articles(skip=HELD_OUT)):
            sentences = _SENTENCE.findall(text)
            window.append(sentences)
            mixed = [
                rng.choice(rng.choice(window)) if i % 2 == rnd % 2 else s
                for i, s in enumerate(sentences)
            ]
            rng.shuffle(mixed)
            yield f"remix{rnd}/{n:06d}.txt", "".join(mixed)
        rnd += 1


@dataclass(slots=True)
class Prepared:
    """One document ready to write."""

    source: str
    content_hash: str
    size: int
    title: str | None
    metadata: dict[str, Any]
    chunks: list[NewChunk]
    vectors: np.ndarray


_worker: dict[str, Any] = {}


def _init_worker() -> None:
    settings = Settings()
    _worker["registry"] = default_registry()
    _worker["embedder"] = make_embedder(EMBEDDER, settings)
    _worker["chunking"] = ChunkingOptions(target=settings.chunk_tokens,
                                          overlap=settings.chunk_overlap)


def _prepare(batch: list[tuple[str, str]]) -> list[Prepared]:
    """Parse, chunk, analyze and embed a batch of articles (in a worker process)."""
    out: list[Prepared] = []
    for source, text in batch:
        data = text.encode()
        parsed = _worker["registry"].parse(data, filename=source, options=ParseOptions())
        drafts = chunk_document(parsed, _worker["chunking"])
        chunks = [
            NewChunk(text=d.text, ord=n, heading_path=d.heading_path, page=d.page,
                     token_count=d.tokens, terms=analyze(index_text(d.heading_path, d.text)),
                     searchable=d.searchable, parent=d.parent, metadata=dict(d.metadata))
            for n, d in enumerate(drafts)
        ]
        texts = [index_text(c.heading_path, c.text) for c in chunks]
        vectors = _worker["embedder"].embed_batch(texts) if texts else np.zeros((0, 256))
        out.append(Prepared(source, hashlib.sha256(data).hexdigest(), len(data), parsed.title,
                            dict(parsed.meta), chunks, np.asarray(vectors, dtype=np.float32)))
    return out


def _batches(items: Iterator[tuple[str, str]], size: int) -> Iterator[list[tuple[str, str]]]:
    batch: list[tuple[str, str]] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []


def _prepared(pool: ProcessPoolExecutor, depth: int) -> Iterator[list[Prepared]]:
    """Prepared batches in corpus order, at most ``depth`` in flight (the corpus is endless)."""
    ahead: deque[Future[list[Prepared]]] = deque()
    try:
        for batch in _batches(articles(), 64):
            ahead.append(pool.submit(_prepare, batch))
            if len(ahead) >= depth:
                yield ahead.popleft().result()
    finally:
        for future in ahead:
            future.cancel()


def build_sqlite(zk: Zhiku, kb_name: str, target_chunks: int, processes: int = 2) -> dict[str, int]:
    """Write documents until the knowledge base holds ``target_chunks`` chunks."""
    kb = zk.create_kb(kb_name, embedder=EMBEDDER)
    model = zk.embedder(EMBEDDER).model_id
    store = zk.store
    chunks = documents = 0
    with ProcessPoolExecutor(processes, initializer=_init_worker) as pool:
        for prepared in _prepared(pool, depth=2 * processes):
            ids: list[int] = []
            vectors: list[np.ndarray] = []
            written: list[int] = []
            for p in prepared:
                doc, chunk_ids = store.replace_document(
                    kb.id, source=p.source, title=p.title, content_hash=p.content_hash,
                    fmt="txt", size_bytes=p.size, metadata=p.metadata, chunks=p.chunks)
                ids.extend(chunk_ids)
                vectors.append(p.vectors[[i for i, c in enumerate(p.chunks) if c.searchable]])
                written.append(doc.id)
                chunks += len(chunk_ids)
                documents += 1
            if ids:
                store.add_vectors(kb.id, model, ids, np.concatenate(vectors))
            store.mark_ready(written, model)
            if chunks >= target_chunks:
                break
    return {"documents": documents, "chunks": chunks}
