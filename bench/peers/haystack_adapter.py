"""Haystack's side of bench/peers, run by ``run.py`` in bench/out/peers/venv-haystack.

SciFact: the abstracts, with their cached MiniLM vectors, are written to an
``InMemoryDocumentStore`` (timed: Document objects made and written, BM25 statistics included);
the hybrid pipeline is ``InMemoryBM25Retriever`` and ``InMemoryEmbeddingRetriever`` (50
candidates each) joined by ``DocumentJoiner`` reciprocal-rank fusion (top 10), each query run
with its cached vector (no query embedding). Store defaults are Haystack's own (BM25L, dot
product on unit vectors). News: ``RecursiveDocumentSplitter`` by characters (Zhiku's chunk size
and overlap, Chinese sentence ends as separators), the shared hashing embedder, then the store.
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from importlib.metadata import version
from typing import Any

import _peerlib as lib
from haystack import Document, Pipeline
from haystack.components.joiners import DocumentJoiner
from haystack.components.preprocessors import RecursiveDocumentSplitter
from haystack.components.retrievers.in_memory import (
    InMemoryBM25Retriever,
    InMemoryEmbeddingRetriever,
)
from haystack.document_stores.in_memory import InMemoryDocumentStore


def scifact() -> dict[str, Any]:
    docs, doc_vectors, queries, query_vectors = lib.scifact()
    rows = doc_vectors.tolist()
    qvecs = query_vectors.tolist()
    InMemoryDocumentStore().write_documents([Document(content="warm up", embedding=rows[0])])
    store = InMemoryDocumentStore()
    start = time.perf_counter()
    written = store.write_documents(
        [Document(id=d["id"], content=d["text"], embedding=rows[i]) for i, d in enumerate(docs)]
    )
    seconds = time.perf_counter() - start
    pipe = Pipeline()
    pipe.add_component("bm25", InMemoryBM25Retriever(store, top_k=lib.CANDIDATES))
    pipe.add_component("dense", InMemoryEmbeddingRetriever(store, top_k=lib.CANDIDATES))
    pipe.add_component("join", DocumentJoiner(join_mode="reciprocal_rank_fusion",
                                              top_k=lib.TOP_K))
    pipe.connect("bm25", "join")
    pipe.connect("dense", "join")

    def search(i: int) -> list[str]:
        out = pipe.run({"bm25": {"query": queries[i]["text"]},
                        "dense": {"query_embedding": qvecs[i]}})
        return [d.id for d in out["join"]["documents"]]

    timed = lib.time_queries(search, len(queries))
    return {"ingest": {"documents": written, "chunks": written, "seconds": round(seconds, 3)},
            "settings": {"fusion": "DocumentJoiner reciprocal_rank_fusion",
                         "bm25": store.bm25_algorithm, "candidates": lib.CANDIDATES,
                         "top_k": lib.TOP_K},
            **timed}


def news() -> dict[str, Any]:
    articles = lib.news()
    timer = lib.Timer()
    embed = timer.wrap(lib.hash_vectors)
    store = InMemoryDocumentStore()
    splitter = RecursiveDocumentSplitter(
        split_length=lib.CHUNK_TOKENS, split_overlap=lib.CHUNK_OVERLAP, split_unit="char",
        separators=["\n\n", "\n", "。", "！", "？", "；", " "])
    splitter.warm_up()
    start = time.perf_counter()
    chunks = splitter.run(documents=[Document(id=a["id"], content=a["text"])
                                     for a in articles])["documents"]
    vectors = embed([c.content or "" for c in chunks]).tolist()
    written = store.write_documents(
        [replace(c, embedding=v) for c, v in zip(chunks, vectors, strict=True)])
    seconds = time.perf_counter() - start
    return {"articles": len(articles), "chunks": written, "seconds": round(seconds, 3),
            "embed_seconds": round(timer.seconds, 3),
            "what": "split, embed, write to InMemoryDocumentStore (BM25 statistics); in memory "
                    "only"}


def main() -> None:
    args = lib.arguments(__doc__ or "")
    parts = args.parts.split(",")
    result: dict[str, Any] = {"side": "haystack", "version": version("haystack-ai"),
                              "python": sys.version.split()[0]}
    if "scifact" in parts:
        result["scifact"] = scifact()
    if "news" in parts:
        result["news"] = news()
    lib.write(args.out, result)


if __name__ == "__main__":
    main()
