"""SciFact (BEIR) nDCG@10 for keyword (BM25), vector (dense) and hybrid search.

Each abstract is ingested as one markdown document, ``# title`` then the text, with
``chunk_tokens`` large enough that every abstract is exactly one chunk. Queries are the 300
test claims; nDCG@10 follows the pytrec_eval convention (ideal DCG from the qrels).

    .venv/bin/python bench/scifact.py            # build the database from scratch, evaluate
    .venv/bin/python bench/scifact.py --reuse    # reuse bench/out/scifact (tuning iterations)
    .venv/bin/python bench/scifact.py --reuse --tune   # fusion grid, chosen on train queries
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import time

from _common import (
    OUT,
    ndcg_at_k,
    peak_rss_mb,
    scifact_corpus,
    scifact_markdown,
    scifact_qrels,
    scifact_queries,
    write_result,
)
from zhiku.core.settings import Settings
from zhiku.ingest.pipeline import SourceItem
from zhiku.retrieval.fusion import fuse
from zhiku.service import Zhiku
from zhiku.text.tokenize import query_terms

KB = "scifact"
MODES = ("keyword", "vector", "hybrid")


def build(zk: Zhiku) -> dict[str, float]:
    zk.create_kb(KB, embedder="minilm", chunk_tokens=8192, chunk_overlap=0)
    items = (
        SourceItem(f"{d['_id']}.md", data=scifact_markdown(d)) for d in scifact_corpus()
    )
    started = time.perf_counter()
    report = zk.ingest_items(KB, items)
    seconds = time.perf_counter() - started
    stats = zk.stats(KB)[KB]
    assert not report.failed, report.failed[:3]
    assert stats["chunks"] == stats["documents"], stats  # one abstract = one chunk
    return {"seconds": round(seconds, 1), "documents": stats["documents"],
            "chunks": stats["chunks"], "embedded": stats["embedded"]}


def evaluate(zk: Zhiku, queries: dict[str, str], qrels: dict[str, dict[str, int]],
             **search: object) -> dict[str, float]:
    out: dict[str, float] = {}
    for mode in MODES:
        scores = []
        for qid, rel in qrels.items():
            hits = zk.search(KB, queries[qid], top_k=10, mode=mode, **search)  # type: ignore[arg-type]
            scores.append(ndcg_at_k([h.source.removesuffix(".md") for h in hits], rel))
        out[mode] = round(statistics.fmean(scores), 4)
    return out


def tune(zk: Zhiku, queries: dict[str, str], splits: dict[str, dict[str, dict[str, int]]],
         pool: int) -> dict[str, object]:
    """Fusion grid over cached candidate lists (the same lists the searcher fuses)."""
    kb = zk.kb(KB)
    doc_of = {
        r[0]: r[1].removesuffix(".md")
        for r in sqlite3.connect(zk.settings.db_path).execute(
            "SELECT c.id, d.source FROM chunks c JOIN documents d ON d.id = c.document_id "
            "WHERE c.kb_id = ?", (kb.id,))
    }
    lists: dict[str, tuple[list[tuple[int, float]], list[tuple[int, float]]]] = {}
    for qrels in splits.values():
        for qid in qrels:
            q = queries[qid]
            kw = zk.store.keyword_search([kb.id], query_terms(q), pool, None)
            vec, _ = zk.searcher._vector([kb], q, pool, None)
            lists[qid] = (kw, vec)
    grid: list[tuple[str, int, float, int]] = []
    for depth in (20, 50, 100):
        if depth > pool:
            continue
        for w in (0.3, 0.4, 0.5, 0.6, 0.7):
            for k in (10, 20, 60):
                grid.append(("rrf", k, w, depth))
            grid.append(("weighted", 0, w, depth))
    rows = []
    for method, k, w, depth in grid:
        row: dict[str, object] = {"fusion": method, "rrf_k": k, "vector_weight": w,
                                  "candidates": depth}
        for split, qrels in splits.items():
            vals = []
            for qid, rel in qrels.items():
                kw, vec = lists[qid]
                fused = fuse([kw[:depth], vec[:depth]], [1 - w, w], method, k or 60)
                vals.append(ndcg_at_k([doc_of[c] for c, _ in fused[:10]], rel))
            row[split] = round(statistics.fmean(vals), 4)
        rows.append(row)
    rows.sort(key=lambda r: -float(r["train"]))  # type: ignore[arg-type]
    return {"grid": rows, "best_on_train": rows[0]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--reuse", action="store_true", help="reuse bench/out/scifact if built")
    ap.add_argument("--tune", action="store_true", help="fusion grid on train (and test) queries")
    ap.add_argument("--split", default="test", choices=("test", "train"))
    args = ap.parse_args()

    home = OUT / "scifact"
    fresh = not (args.reuse and (home / "zhiku.db").exists())
    if fresh and home.exists():
        shutil.rmtree(home)
    zk = Zhiku(Settings(home=home))
    result: dict[str, object] = {}
    if fresh:
        result["build"] = build(zk)
        result["peak_rss_mb_after_build"] = round(peak_rss_mb(), 1)
        print("built:", result["build"])
    else:
        result["build"] = "reused bench/out/scifact"
    queries = scifact_queries()
    qrels = scifact_qrels(args.split)
    s = zk.settings
    result["settings"] = {"fusion": s.fusion, "rrf_k": s.rrf_k, "vector_weight": s.vector_weight,
                          "candidates": s.candidates, "embed_max_tokens": s.embed_max_tokens}
    result["split"] = args.split
    result["queries"] = len(qrels)
    result["ndcg@10"] = evaluate(zk, queries, qrels)
    result["references"] = {"haystack_hybrid_rrf": 0.690, "haystack_bm25": 0.662,
                            "llamaindex_hybrid": 0.716, "llamaindex_bm25": 0.687,
                            "minilm_dense": 0.647, "target_hybrid": 0.72}
    result["ratio_hybrid_vs_llamaindex"] = round(result["ndcg@10"]["hybrid"] / 0.716, 3)  # type: ignore[index]
    print(f"SciFact {args.split} nDCG@10 ({len(qrels)} queries):", result["ndcg@10"])
    if args.tune:
        t = tune(zk, queries, {"train": scifact_qrels("train"), "test": scifact_qrels("test")},
                 pool=100)
        result["tuning"] = t
        print("best on train:", t["best_on_train"])
        for row in t["grid"][:10]:  # type: ignore[index]
            print("  ", row)
    name = "scifact" if args.split == "test" and not args.tune else f"scifact_{args.split}" + (
        "_tune" if args.tune else "")
    path = write_result(name, result)
    print("wrote", path)
    zk.close()


if __name__ == "__main__":
    main()
