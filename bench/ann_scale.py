"""Embedded mode at scale (issue 20 §1): one SQLite knowledge base of N chunks (default
1,000,000) of Chinese news, searched with the approximate vector index and, in the same run,
with exact search as the baseline.

Steps:
  build   the knowledge base (``_scale_data.py``: real articles, then remixes; the product's
          parser, chunker, analyzer, 256-d hashing vectors), kept under bench/out/ann_scale_<N>
          and reused when already built.
  index   the HNSW graph, built once through the product (``AnnVectorIndex.ensure``) and saved
          beside the database; its build time and file size.
  serve   twice, each in a fresh process: with the persisted graph (ann) and with exact search
          (exact). Open-to-first-search (opening the database and the graph, the first hybrid
          search), then hybrid / keyword / vector p50/p95 over held-out queries once the
          in-memory keyword index is current (its build time and bytes are reported), and the
          process's RSS.
  recall  recall@10 of the product's vector search with the graph against exact search over
          the same vectors (ties with the 10th exact score counted too: hashing vectors tie).

The hashing embedder counts as multilingual here, as in pg_scale.py (it hashes the analyzer's
own terms), so every hybrid search of the Chinese queries runs both retrievers.

    .venv/bin/python bench/ann_scale.py                 # 1M chunks
    .venv/bin/python bench/ann_scale.py --n 200000      # ann_scale_200k.json
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from _common import OUT, summary_ms, write_result
from _scale_data import build_sqlite, queries
from zhiku.core.settings import Settings
from zhiku.models.embedders.hashing import HashingEmbedder
from zhiku.retrieval.ann import AnnVectorIndex
from zhiku.retrieval.ann.graph import expansion
from zhiku.service import Zhiku

KB = "news"
HashingEmbedder.multilingual = True  # see above: hybrid searches run both retrievers


def build(home: Path, n: int) -> dict[str, Any]:
    marker = home / "built.json"
    if marker.exists():
        return dict(json.loads(marker.read_text()), reused=True)
    t = time.perf_counter()
    with Zhiku(Settings(home=home, ann=False)) as zk:
        counts = build_sqlite(zk, KB, n)
    info = {**counts, "build_seconds": round(time.perf_counter() - t, 1)}
    marker.write_text(json.dumps(info))
    return info


def index(home: Path) -> dict[str, Any]:
    with Zhiku(Settings(home=home)) as zk:
        assert isinstance(zk.vectors, AnnVectorIndex), "install zhiku[ann]"
        kb = zk.kb(KB)
        model = zk.embedder(kb.embedder).model_id
        t = time.perf_counter()
        zk.vectors.ensure(kb.id, model)
        seconds = time.perf_counter() - t
    folder = home / "zhiku.db.ann"
    size = sum(p.stat().st_size for p in folder.iterdir())
    return {"build_seconds": round(seconds, 1), "files_mb": round(size / 2**20, 1)}


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def serve(home: Path, ann: bool, count: int) -> dict[str, Any]:
    """Run in a fresh process: open, first search, then timed searches."""
    qs = queries(count + 20)
    t = time.perf_counter()
    zk = Zhiku(Settings(home=home, ann=ann))
    zk.search(KB, qs[0], top_k=10)
    kb = zk.kb(KB)
    embedder = zk.embedder(kb.embedder)
    zk.vectors.search(kb.id, embedder.model_id, embedder.embed_batch([qs[0]])[0], 10)
    first = time.perf_counter() - t
    t = time.perf_counter()
    memory = zk.store._memory  # type: ignore[attr-defined]  # the index under measurement
    assert memory.refresh(), "the in-memory keyword index is off"
    keyword_build = time.perf_counter() - t
    snap = memory._snap
    keyword_mb = sum(s.nbytes for s in snap.segments) / 2**20
    for q in qs[count:]:  # warm-up on other queries
        for mode in ("hybrid", "keyword", "vector"):
            zk.search(KB, q, top_k=10, mode=mode)
    times: dict[str, list[float]] = {}
    for q in qs[:count]:
        for mode in ("hybrid", "keyword", "vector"):
            t = time.perf_counter()
            zk.search(KB, q, top_k=10, mode=mode)
            times.setdefault(mode, []).append(time.perf_counter() - t)
    out = {
        "open_to_first_search_s": round(first, 2),
        "keyword_index_build_s": round(keyword_build, 1),
        "keyword_index_mb": round(keyword_mb, 1),
        "keyword_index_rows": snap.rows,
        **{m: summary_ms(v) for m, v in times.items()},
        "rss_mb": rss_mb(),
    }
    zk.close()
    return out


def recall(home: Path, count: int, efs: list[int]) -> dict[str, Any]:
    """Recall@10 of the graph search against exact search, for each ``ef_search`` setting in
    ``efs`` (the same graph, the same queries), with the candidate list that setting gives this
    graph and the graph search's own p50 time."""
    qs = queries(count)
    with Zhiku(Settings(home=home, ann=False)) as exact:
        kb = exact.kb(KB)
        embedder = exact.embedder(kb.embedder)
        vecs = embedder.embed_batch(qs)
        truths = [exact.vectors.search(kb.id, embedder.model_id, v, 10) for v in vecs]
    with sqlite3.connect(home / "zhiku.db") as conn:
        size = int(conn.execute("SELECT count(*) FROM embeddings WHERE model = ?",
                                (embedder.model_id,)).fetchone()[0])
    out: dict[str, Any] = {"queries": count}
    for ef in efs:
        with Zhiku(Settings(home=home, ann_ef_search=ef)) as ann:
            strict, tied, seconds = [], [], []
            for vec, truth in zip(vecs, truths, strict=True):
                t = time.perf_counter()
                got = ann.vectors.search(kb.id, embedder.model_id, vec, 10)
                seconds.append(time.perf_counter() - t)
                want = {i for i, _ in truth}
                tenth = truth[-1][1]
                strict.append(len({i for i, _ in got} & want) / 10)
                tied.append(sum(1 for i, s in got if i in want or s >= tenth - 1e-6) / 10)
        out[f"ef_search_{ef}"] = {
            "candidate_list": expansion(ef, size, 10),
            "recall_at_10": round(float(np.mean(strict)), 4),
            "recall_at_10_ties_counted": round(float(np.mean(tied)), 4),
            "graph_search_p50_ms": round(float(np.median(seconds)) * 1000, 2),
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000, help="chunks")
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--parts", default="data,index,serve,recall",
                    help="steps to run (data and index are reused when built)")
    ap.add_argument("--ef-search", default="512",
                    help="comma-separated ef_search values for the recall step")
    ap.add_argument("--serve", choices=["ann", "exact"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    parts = args.parts.split(",")
    home = OUT / f"ann_scale_{args.n // 1000}k"
    if args.serve:
        print(json.dumps(serve(home, args.serve == "ann", args.queries)))
        return
    result: dict[str, Any] = {"chunks_target": args.n}
    result["data"] = build(home, args.n)
    print("data", result["data"], flush=True)
    if "index" in parts:
        result["index"] = index(home)
        print("index", result["index"], flush=True)
    for mode in ("ann", "exact") if "serve" in parts else ():
        done = subprocess.run(
            [sys.executable, __file__, "--n", str(args.n), "--queries", str(args.queries),
             "--serve", mode], capture_output=True, text=True, check=True)
        result[mode] = json.loads(done.stdout.strip().splitlines()[-1])
        print(mode, result[mode], flush=True)
    if "recall" in parts:
        efs = [int(x) for x in args.ef_search.split(",")]
        result["recall"] = recall(home, args.queries, efs)
        print("recall", result["recall"], flush=True)
    name = "ann_scale" if args.n == 1_000_000 else f"ann_scale_{args.n // 1000}k"
    if parts != ["data", "index", "serve", "recall"]:
        name += "_" + "_".join(p for p in parts if p != "data")
    write_result(name, result)


if __name__ == "__main__":
    main()
