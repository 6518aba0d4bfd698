"""HotpotQA-500: recall@5/@10 of *both* supporting paragraphs, hybrid vs graph modes (issue 6).

The corpus is the union of the 500 questions' contexts, de-duplicated by title + text; each
paragraph is one markdown document (``# title`` then the text) and exactly one chunk. The graph
comes from the non-LLM extractor during ingestion (``graph=True``). Also measured: ingestion
with and without extraction, and extraction alone (``graph build`` over the same chunks).

    .venv/bin/python bench/hotpotqa_graph.py                      # minilm, full run
    .venv/bin/python bench/hotpotqa_graph.py --embedder hashing   # quick, no model
    .venv/bin/python bench/hotpotqa_graph.py --reuse              # evaluate an existing build
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from typing import Any

from _common import DATA, OUT, peak_rss_mb, write_result
from zhiku.core.settings import Settings
from zhiku.ingest.pipeline import SourceItem
from zhiku.service import Zhiku

MODES = ("hybrid", "local", "global", "mix")


def load() -> tuple[list[dict[str, Any]], dict[tuple[str, str], int]]:
    path = DATA / "hotpotqa500" / "dev_subsampled.jsonl"
    with path.open(encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    corpus: dict[tuple[str, str], int] = {}
    for row in rows:
        for c in row["contexts"]:
            corpus.setdefault((c["title"], c["paragraph_text"]), len(corpus))
    return rows, corpus


def items(corpus: dict[tuple[str, str], int]) -> list[SourceItem]:
    return [SourceItem(f"hp{i:05d}.md", data=f"# {t}\n\n{x}\n".encode())
            for (t, x), i in corpus.items()]


def ingest(zk: Zhiku, kb: str, corpus: dict[tuple[str, str], int], embedder: str,
           graph: bool) -> dict[str, float]:
    zk.create_kb(kb, embedder=embedder, chunk_tokens=4096, chunk_overlap=0, graph=graph)
    started = time.perf_counter()
    report = zk.ingest_items(kb, items(corpus))
    seconds = time.perf_counter() - started
    assert not report.failed, report.failed[:3]
    chunks = zk.stats(kb)[kb]["chunks"]
    return {"seconds": round(seconds, 2), "chunks": chunks,
            "chunks_per_s": round(chunks / seconds, 1)}


def evaluate(zk: Zhiku, kb: str, rows: list[dict[str, Any]],
             corpus: dict[tuple[str, str], int]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for mode in MODES:
        both5 = both10 = any10 = 0
        latencies: list[float] = []
        for row in rows:
            gold = {f"hp{corpus[(c['title'], c['paragraph_text'])]:05d}.md"
                    for c in row["contexts"] if c["is_supporting"]}
            started = time.perf_counter()
            hits = zk.search(kb, row["question_text"], top_k=10, mode=mode)  # type: ignore[arg-type]
            latencies.append(time.perf_counter() - started)
            got = [h.source for h in hits]
            both5 += gold <= set(got[:5])
            both10 += gold <= set(got[:10])
            any10 += bool(gold & set(got[:10]))
        n = len(rows)
        latencies.sort()
        out[mode] = {"both_recall@5": round(both5 / n, 4), "both_recall@10": round(both10 / n, 4),
                     "any_recall@10": round(any10 / n, 4),
                     "p50_ms": round(1000 * latencies[n // 2], 1)}
        print(mode, out[mode], flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--embedder", default="minilm")
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--limit", type=int, default=None, help="evaluate the first N questions")
    parser.add_argument("--no-plain", action="store_true", help="skip the ingest without graph")
    args = parser.parse_args()
    rows, corpus = load()
    rows = rows[: args.limit] if args.limit else rows
    home = OUT / f"hotpotqa_graph_{args.embedder}"
    result: dict[str, Any] = {"embedder": args.embedder, "paragraphs": len(corpus),
                              "questions": len(rows)}
    if not args.reuse:
        shutil.rmtree(home, ignore_errors=True)
    with Zhiku(Settings(home=home)) as zk:
        if not args.reuse:
            if not args.no_plain:
                result["ingest_plain"] = ingest(zk, "plain", corpus, args.embedder, graph=False)
                print("plain", result["ingest_plain"], flush=True)
                started = time.perf_counter()
                zk.store.update_kb(zk.kb("plain").id, settings={"graph": True})
                built = zk.graph.build("plain")
                secs = time.perf_counter() - started
                result["extraction_only"] = {"seconds": round(secs, 2), "chunks": built.chunks,
                                             "chunks_per_s": round(built.chunks / secs, 1)}
                print("extraction", result["extraction_only"], flush=True)
            result["ingest_graph"] = ingest(zk, "graph", corpus, args.embedder, graph=True)
            print("graph", result["ingest_graph"], flush=True)
            started = time.perf_counter()
            zk.graph.communities("graph")
            result["communities_seconds"] = round(time.perf_counter() - started, 2)
            if "ingest_plain" in result:
                plain, graph = result["ingest_plain"], result["ingest_graph"]
                result["ingest_slowdown"] = round(graph["seconds"] / plain["seconds"] - 1, 4)
                result["extraction_vs_ingest_time"] = round(
                    result["extraction_only"]["seconds"] / plain["seconds"], 4)
        result["graph"] = zk.graph.stats("graph")
        result["recall"] = evaluate(zk, "graph", rows, corpus)
    r = result["recall"]
    result["mix_minus_hybrid_both@10"] = round(
        r["mix"]["both_recall@10"] - r["hybrid"]["both_recall@10"], 4)
    result["peak_rss_mb"] = round(peak_rss_mb(), 1)
    path = write_result(f"hotpotqa_graph_{args.embedder}", result)
    print(json.dumps(result, indent=2), "\n->", path)


if __name__ == "__main__":
    main()
