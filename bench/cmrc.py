"""CMRC 2018 dev: question → the paragraph it was asked about. Recall@1 and MRR@10.

Each of the 848 paragraphs is ingested as one document (a .txt item, one chunk: chunk_tokens is
set above the longest paragraph); each of the 3,219 questions is searched in keyword, vector and
hybrid mode, and hits are mapped back to their paragraph. Reference: character-bigram BM25
R@1 0.955, MRR@10 0.974; target R@1 ≥ 0.96.

    .venv/bin/python bench/cmrc.py                       # default embedder (minilm)
    .venv/bin/python bench/cmrc.py --embedder hashing    # keyword-only tuning, seconds to build
    .venv/bin/python bench/cmrc.py --reuse               # reuse bench/out/cmrc-<embedder>
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import time

from _common import DATA, OUT, write_result
from zhiku.core.settings import Settings
from zhiku.ingest.pipeline import SourceItem
from zhiku.service import Zhiku

KB = "cmrc"
MODES = ("keyword", "vector", "hybrid")


def load() -> tuple[dict[str, str], list[tuple[str, str]]]:
    data = json.loads((DATA / "cmrc2018" / "cmrc2018_dev.json").read_text(encoding="utf-8"))
    paragraphs: dict[str, str] = {}
    questions: list[tuple[str, str]] = []
    for article in data["data"]:
        for p in article["paragraphs"]:
            paragraphs[p["id"]] = p["context"]
            questions.extend((q["question"], p["id"]) for q in p["qas"])
    return paragraphs, questions


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--embedder", default="minilm")
    ap.add_argument("--reuse", action="store_true")
    ap.add_argument("--modes", default=",".join(MODES))
    args = ap.parse_args()

    paragraphs, questions = load()
    home = OUT / f"cmrc-{args.embedder}"
    fresh = not (args.reuse and (home / "zhiku.db").exists())
    if fresh and home.exists():
        shutil.rmtree(home)
    zk = Zhiku(Settings(home=home))
    result: dict[str, object] = {"embedder": args.embedder, "paragraphs": len(paragraphs),
                                 "questions": len(questions)}
    if fresh:
        zk.create_kb(KB, embedder=args.embedder, chunk_tokens=4096, chunk_overlap=0)
        started = time.perf_counter()
        report = zk.ingest_items(
            KB, (SourceItem(f"{pid}.txt", data=text.encode()) for pid, text in paragraphs.items())
        )
        assert not report.failed
        stats = zk.stats(KB)[KB]
        assert stats["chunks"] == len(paragraphs), stats
        result["build_seconds"] = round(time.perf_counter() - started, 1)
    s = zk.settings
    result["settings"] = {"fusion": s.fusion, "rrf_k": s.rrf_k, "vector_weight": s.vector_weight,
                          "candidates": s.candidates}
    metrics: dict[str, dict[str, float]] = {}
    for mode in args.modes.split(","):
        r1, rr = [], []
        for question, pid in questions:
            hits = zk.search(KB, question, top_k=10, mode=mode)
            ranked = list(dict.fromkeys(h.source.removesuffix(".txt") for h in hits))
            rank = ranked.index(pid) + 1 if pid in ranked else 0
            r1.append(1.0 if rank == 1 else 0.0)
            rr.append(1.0 / rank if rank else 0.0)
        metrics[mode] = {"recall@1": round(statistics.fmean(r1), 4),
                         "mrr@10": round(statistics.fmean(rr), 4)}
        m = metrics[mode]
        print(f"{mode:8s} R@1 {m['recall@1']:.4f}  MRR@10 {m['mrr@10']:.4f}")
    result["metrics"] = metrics
    result["reference"] = {"char_bigram_bm25_recall@1": 0.955, "char_bigram_bm25_mrr@10": 0.974,
                           "target_recall@1": 0.96}
    result["ratio_vs_reference_recall@1"] = {
        m: round(v["recall@1"] / 0.955, 4) for m, v in metrics.items()}
    path = write_result("cmrc" if args.embedder == "minilm" else f"cmrc_{args.embedder}", result)
    print("wrote", path)
    zk.close()


if __name__ == "__main__":
    main()
