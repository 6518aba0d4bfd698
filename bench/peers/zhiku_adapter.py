"""Zhiku's side of bench/peers, in the project's virtual environment, in process.

SciFact: each abstract is ingested as bench/scifact.py ingests it (one markdown document, one
chunk) into a fresh knowledge base whose embedder serves the cached MiniLM vectors by text, so
nothing is embedded; every test claim is searched with ``zk.search(mode="hybrid", top_k=10)``
(BM25 and vector candidates, 50 each, reciprocal-rank fusion), its query vector looked up the
same way. News: the articles are ingested with Zhiku's default chunking and the shared hashing
embedder. Run by ``run.py``; ``--out`` names the result file.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # bench/, for _common
import _peerlib as lib

from _common import scifact_corpus, scifact_markdown
from zhiku.core.settings import Settings
from zhiku.ingest.pipeline import SourceItem
from zhiku.models.embedders.minilm import MODEL_ID
from zhiku.service import Zhiku

HOME = lib.OUT / "zhiku-home"


class TableEmbedder:
    """An embedder that looks vectors up by text (never computes one): the cached MiniLM
    vectors under MiniLM's own model id, so search calibrates them as it does MiniLM's."""

    multilingual = False

    def __init__(self, model_id: str, table: dict[str, np.ndarray]) -> None:
        self.model_id = model_id
        self._table = table
        self.dim = len(next(iter(table.values())))

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._table[t] for t in texts])


class FunctionEmbedder:
    """An embedder that calls a function of a batch of texts (the shared hashing embedder)."""

    multilingual = False

    def __init__(self, model_id: str, dim: int,
                 fn: Callable[[Sequence[str]], np.ndarray]) -> None:
        self.model_id = model_id
        self.dim = dim
        self._fn = fn

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        return self._fn(texts)


def install(zk: Zhiku, name: str, embedder: Any) -> None:
    """Make ``name`` resolve to ``embedder`` in this process (the runtime's embedders are made
    once per name and then shared; the bench hands it one it made itself)."""
    zk.runtime.embedders._made[name] = embedder


def warm_up(zk: Zhiku) -> None:
    """One small document through the pipeline before anything is timed (parse workers
    started, modules imported), as the peers' components are made before their clocks start."""
    install(zk, "peers-hash", FunctionEmbedder("peers-hash-256", lib.HASH_DIM, lib.hash_vectors))
    zk.create_kb("warmup", embedder="peers-hash")
    doc = SourceItem("warmup.md", data="# 预热\n\nwarm up 一下。\n".encode())
    zk.ingest_items("warmup", iter([doc]))


def scifact(zk: Zhiku) -> dict[str, Any]:
    docs, doc_vectors, queries, query_vectors = lib.scifact()
    table = {d["text"]: doc_vectors[i] for i, d in enumerate(docs)}
    table.update({q["text"]: query_vectors[i] for i, q in enumerate(queries)})
    install(zk, "peers-minilm-cache", TableEmbedder(MODEL_ID, table))
    zk.create_kb("scifact", embedder="peers-minilm-cache", chunk_tokens=8192, chunk_overlap=0)
    wanted = {d["id"] for d in docs}
    items = [SourceItem(f"{d['_id']}.md", data=scifact_markdown(d))
             for d in scifact_corpus() if d["_id"] in wanted]
    start = time.perf_counter()
    report = zk.ingest_items("scifact", iter(items))
    seconds = time.perf_counter() - start
    stats = zk.stats("scifact")["scifact"]
    assert not report.failed, report.failed[:3]
    assert stats["chunks"] == stats["embedded"] == len(docs), stats

    def search(i: int) -> list[str]:
        hits = zk.search("scifact", queries[i]["text"], top_k=lib.TOP_K, mode="hybrid")
        return [h.source.removesuffix(".md") for h in hits]

    search(0)
    time.sleep(2)  # the in-memory keyword index is built in the background after a write
    timed = lib.time_queries(search, len(queries))
    s = zk.settings
    return {"ingest": {"documents": stats["documents"], "chunks": stats["chunks"],
                       "seconds": round(seconds, 3)},
            "settings": {"fusion": s.fusion, "rrf_k": s.rrf_k, "candidates": s.candidates,
                         "top_k": lib.TOP_K},
            **timed}


def news(zk: Zhiku) -> dict[str, Any]:
    articles = lib.news()
    timer = lib.Timer()
    install(zk, "peers-hash", FunctionEmbedder("peers-hash-256", lib.HASH_DIM,
                                               timer.wrap(lib.hash_vectors)))
    zk.create_kb("news", embedder="peers-hash", chunk_tokens=lib.CHUNK_TOKENS,
                 chunk_overlap=lib.CHUNK_OVERLAP)

    def items() -> Iterator[SourceItem]:
        for a in articles:
            yield SourceItem(f"news/{a['id']}.txt", data=a["text"].encode())

    start = time.perf_counter()
    report = zk.ingest_items("news", items())
    seconds = time.perf_counter() - start
    stats = zk.stats("news")["news"]
    assert not report.failed, report.failed[:3]
    return {"articles": stats["documents"], "chunks": stats["chunks"],
            "seconds": round(seconds, 3), "embed_seconds": round(timer.seconds, 3),
            "what": "parse, chunk, analyze (jieba + bigrams) into SQLite FTS5, embed, write "
                    "vectors; durable on return"}


def main() -> None:
    args = lib.arguments(__doc__ or "")
    parts = args.parts.split(",")
    shutil.rmtree(HOME, ignore_errors=True)
    result: dict[str, Any] = {"side": "zhiku", "version": version("zhiku"),
                              "python": sys.version.split()[0]}
    with Zhiku(Settings(home=HOME)) as zk:
        warm_up(zk)
        if "scifact" in parts:
            result["scifact"] = scifact(zk)
        if "news" in parts:
            result["news"] = news(zk)
    lib.write(args.out, result)


if __name__ == "__main__":
    main()
