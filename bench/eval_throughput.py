"""Evaluation throughput: 1,000 eval questions against the same 1,000 searches run alone.

Builds a knowledge base of at least 100,000 chunks from the Chinese news corpus with the
``hashing`` embedder (streamed from the gz files), makes 1,000 known-item questions (a
sentence of a random chunk; that chunk is the expected one), then times, in the same process
and alternating rounds, (a) the 1,000 ``Zhiku.search`` calls alone and (b) ``zhiku eval run``
on the same questions (retrieval metrics, no LLM): search + scoring + storing every result.
Target: (b) runs at ≥ 80% of the throughput of (a).

The machine is shared, so load drifts and a second pass over the same queries finds warmer
caches. The questions are therefore split into blocks of 100, (a) and (b) alternate per block
in ABBA order, and the times are summed per round. Each eval run also reports its own
overhead (run time minus the time spent inside the searches), a drift-free check.

    .venv/bin/python bench/eval_throughput.py            # build (a few minutes) and measure
    .venv/bin/python bench/eval_throughput.py --reuse    # reuse bench/out/eval_throughput
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import statistics
import time
from collections.abc import Iterator

from _common import OUT, news_articles, peak_rss_mb, write_result
from zhiku.core.settings import Settings
from zhiku.evals import sets
from zhiku.evals.runs import RunOptions, results, run_eval
from zhiku.evals.targets import KbTarget
from zhiku.evals.types import EvalQuestion
from zhiku.ingest.pipeline import SourceItem
from zhiku.service import Zhiku

KB = "news"
SET = "news-known-item"
_SENTENCE = re.compile(r"[^。！？\n]{12,60}[。！？]")


def build(zk: Zhiku, target_chunks: int) -> dict[str, object]:
    """Ingest news articles in batches until the knowledge base holds ``target_chunks``."""
    zk.create_kb(KB, embedder="hashing")
    articles = news_articles()
    started = time.perf_counter()
    done = 0

    def batch(n: int) -> Iterator[SourceItem]:
        nonlocal done
        for text in articles:
            done += 1
            yield SourceItem(f"news/{done:06d}.txt", data=text.encode("utf-8"))
            n -= 1
            if n == 0:
                return

    while zk.stats(KB)[KB]["chunks"] < target_chunks:
        before = done
        zk.ingest_items(KB, batch(2000))
        if done == before:
            break
    stats = zk.stats(KB)[KB]
    return {"articles": done, "chunks": stats["chunks"],
            "seconds": round(time.perf_counter() - started, 1)}


def make_questions(zk: Zhiku, n: int, seed: int = 7) -> list[EvalQuestion]:
    """Known-item questions: a sentence of a random chunk; that chunk is expected."""
    kb_id = zk.kb(KB).id
    rows = zk.db.conn.execute(
        "SELECT c.id, d.source, c.text FROM chunks c JOIN documents d ON d.id = c.document_id "
        "WHERE c.kb_id = ? AND c.searchable = 1", (kb_id,)).fetchall()
    rng = random.Random(seed)
    out: list[EvalQuestion] = []
    for cid, source, text in rng.sample(rows, len(rows)):
        found = _SENTENCE.findall(text)
        if not found:
            continue
        out.append(EvalQuestion(question=rng.choice(found), ext_id=str(cid),
                                expected_chunks={cid: 1}, expected_sources={source: 1}))
        if len(out) == n:
            break
    return out


def time_searches(zk: Zhiku, questions: list[EvalQuestion], top_k: int) -> float:
    started = time.perf_counter()
    for q in questions:
        zk.search(KB, q.question, top_k=top_k)
    return time.perf_counter() - started


def time_eval(zk: Zhiku, set_name: str, top_k: int) -> tuple[float, float, dict[str, float]]:
    """Wall time of one eval run, the time its searches took, and its metrics."""
    started = time.perf_counter()
    run = run_eval(zk.evals, KbTarget(zk, KB), set_name, RunOptions(top_k=top_k, with_answer=False))
    seconds = time.perf_counter() - started
    searching = sum(r.latency_ms for r in results(zk.evals, run.id)) / 1000
    return seconds, searching, run.summary["metrics"]


def block_sets(zk: Zhiku, questions: list[EvalQuestion], size: int) -> list[str]:
    """The questions as eval sets of ``size`` (the whole set is stored too)."""
    sets.create_set(zk.evals, SET, questions, replace=True, description="known-item news questions")
    names = []
    for b in range(0, len(questions), size):
        name = f"{SET}-{b // size:02d}"
        sets.create_set(zk.evals, name, questions[b:b + size], replace=True)
        names.append(name)
    return names


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--reuse", action="store_true", help="reuse bench/out/eval_throughput")
    ap.add_argument("--chunks", type=int, default=100_000)
    ap.add_argument("--questions", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--block", type=int, default=100, help="questions per ABBA block")
    ap.add_argument("--top-k", type=int, default=10)
    args = ap.parse_args()

    home = OUT / "eval_throughput"
    fresh = not (args.reuse and (home / "zhiku.db").exists())
    if fresh and home.exists():
        shutil.rmtree(home)
    zk = Zhiku(Settings(home=home))
    result: dict[str, object] = {}
    result["build"] = build(zk, args.chunks) if fresh else "reused bench/out/eval_throughput"
    print("built:", result["build"], flush=True)
    questions = make_questions(zk, args.questions)
    names = block_sets(zk, questions, args.block)
    time_searches(zk, questions[:50], args.top_k)  # load the vector index, warm the embedder
    n = len(questions)
    rounds: list[dict[str, float]] = []
    metrics: list[dict[str, float]] = []
    for r in range(args.rounds):
        plain = evals = searching = 0.0
        for b, name in enumerate(names):
            block = questions[b * args.block:(b + 1) * args.block]
            order = ("plain", "eval") if (r + b) % 2 == 0 else ("eval", "plain")
            for kind in order:
                if kind == "plain":
                    plain += time_searches(zk, block, args.top_k)
                else:
                    seconds, inside, m = time_eval(zk, name, args.top_k)
                    evals += seconds
                    searching += inside
                    metrics.append(m)
        rounds.append({"searches_alone_s": round(plain, 2), "eval_s": round(evals, 2),
                       "eval_searching_s": round(searching, 2),
                       "searches_alone_qps": round(n / plain, 1), "eval_qps": round(n / evals, 1),
                       "ratio": round(plain / evals, 3),
                       "ratio_within_run": round(searching / evals, 3)})
        print(f"round {r + 1}:", rounds[-1], flush=True)
        result.update({
            "kb_chunks": zk.stats(KB)[KB]["chunks"], "questions": n, "top_k": args.top_k,
            "block": args.block, "rounds": rounds,
            "ratio_median": round(statistics.median(x["ratio"] for x in rounds), 3),
            "ratio_within_run_median": round(
                statistics.median(x["ratio_within_run"] for x in rounds), 3),
            "target_ratio": 0.8,
            "eval_metrics_mean_of_blocks": {
                k: round(statistics.fmean(m[k] for m in metrics), 4) for k in metrics[0]},
            "peak_rss_mb": round(peak_rss_mb(), 1),
        })
        print("wrote", write_result("eval_throughput", result), flush=True)
    zk.close()


if __name__ == "__main__":
    main()
