"""LlamaIndex's side of bench/peers, run by ``run.py`` in bench/out/peers/venv-llamaindex.

SciFact: the abstracts become ``TextNode``s carrying their cached MiniLM vectors; ingestion
(timed) builds an in-memory ``VectorStoreIndex`` (nothing embedded: every node has its vector)
and a ``BM25Retriever`` (llama-index-retrievers-bm25, its defaults). The hybrid search is a
``QueryFusionRetriever`` in ``reciprocal_rerank`` mode over both (50 candidates each, top 10,
one query: no LLM call), each query handed over as a ``QueryBundle`` with its cached vector (no
query embedding). News: ``SentenceSplitter`` (Zhiku's chunk size and overlap, in its tokens), the
shared hashing embedder, then the same two indexes.
"""

from __future__ import annotations

import sys
import time
from importlib.metadata import version
from typing import Any

import _peerlib as lib
from llama_index.core import QueryBundle, VectorStoreIndex
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.llms import MockLLM
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.retrievers import QueryFusionRetriever
from llama_index.core.schema import Document, TextNode
from llama_index.retrievers.bm25 import BM25Retriever


def indexes(nodes: list[TextNode], dim: int) -> tuple[VectorStoreIndex, BM25Retriever]:
    """The vector index and the BM25 retriever over ``nodes`` (which carry their vectors;
    the mock embedding model is there so that nothing resolves a default remote one)."""
    index = VectorStoreIndex(nodes, embed_model=MockEmbedding(embed_dim=dim))
    bm25 = BM25Retriever.from_defaults(nodes=nodes, similarity_top_k=lib.CANDIDATES)
    return index, bm25


def scifact() -> dict[str, Any]:
    docs, doc_vectors, queries, query_vectors = lib.scifact()
    rows = doc_vectors.tolist()
    qvecs = query_vectors.tolist()
    indexes([TextNode(id_="warmup", text="warm up", embedding=rows[0])], len(rows[0]))
    start = time.perf_counter()
    nodes = [TextNode(id_=d["id"], text=d["text"], embedding=rows[i])
             for i, d in enumerate(docs)]
    index, bm25 = indexes(nodes, doc_vectors.shape[1])
    seconds = time.perf_counter() - start
    fusion = QueryFusionRetriever(
        [bm25, index.as_retriever(similarity_top_k=lib.CANDIDATES)], llm=MockLLM(),
        mode="reciprocal_rerank", similarity_top_k=lib.TOP_K, num_queries=1, use_async=False)

    def search(i: int) -> list[str]:
        found = fusion.retrieve(QueryBundle(query_str=queries[i]["text"], embedding=qvecs[i]))
        return [n.node.node_id for n in found]

    timed = lib.time_queries(search, len(queries))
    return {"ingest": {"documents": len(nodes), "chunks": len(nodes),
                       "seconds": round(seconds, 3)},
            "settings": {"fusion": "QueryFusionRetriever reciprocal_rerank",
                         "candidates": lib.CANDIDATES, "top_k": lib.TOP_K},
            **timed}


def news() -> dict[str, Any]:
    articles = lib.news()
    timer = lib.Timer()
    embed = timer.wrap(lib.hash_vectors)
    splitter = SentenceSplitter(chunk_size=lib.CHUNK_TOKENS, chunk_overlap=lib.CHUNK_OVERLAP)
    splitter.get_nodes_from_documents([Document(text="预热。warm up.")])  # tokenizer loaded
    start = time.perf_counter()
    nodes = splitter.get_nodes_from_documents(
        [Document(id_=a["id"], text=a["text"]) for a in articles])
    vectors = embed([n.get_content() for n in nodes]).tolist()
    for node, vec in zip(nodes, vectors, strict=True):
        node.embedding = vec
    indexes(nodes, lib.HASH_DIM)  # type: ignore[arg-type]
    seconds = time.perf_counter() - start
    return {"articles": len(articles), "chunks": len(nodes), "seconds": round(seconds, 3),
            "embed_seconds": round(timer.seconds, 3),
            "what": "split, embed, build the in-memory vector index and BM25 index; in memory "
                    "only"}


def main() -> None:
    args = lib.arguments(__doc__ or "")
    parts = args.parts.split(",")
    result: dict[str, Any] = {"side": "llamaindex", "version": version("llama-index-core"),
                              "python": sys.version.split()[0]}
    if "scifact" in parts:
        result["scifact"] = scifact()
    if "news" in parts:
        result["news"] = news()
    lib.write(args.out, result)


if __name__ == "__main__":
    main()
