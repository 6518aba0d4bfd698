"""Answer trust with the bundled model and no LLM: refusals, answers and citations.

Two mixed sets, each built from a ``train`` or ``test`` part of its data (thresholds are chosen
on ``train``; ``test`` is reported):

- ``cmrc`` (zh): CMRC 2018 articles. Half of n/1.5 sampled articles are ingested (one document per
  paragraph); questions about them are answerable (gold: the paragraph and its answer spans),
  questions about the other half are not. train: the trial file; test: the dev file.
- ``hotpot`` (en): HotpotQA-500. The paragraphs of one block of questions are ingested; those
  questions are answerable (gold: the two supporting paragraphs and the answer), the questions
  of the next block are not (those whose paragraph titles are ingested too are skipped).
  train: even-numbered questions; test: odd-numbered ones (the file holds bridge questions
  first and comparison questions after, so a split by position would not be like for like).

Measured per set: false-refusal rate (answerable questions refused), correct-refusal rate
(unanswerable questions refused), answer-contains-gold and cites-gold (over the answerable
questions answered). ``--dump`` writes each question's best hit relevance, for calibration.

    .venv/bin/python bench/answer_trust.py --set cmrc --split test --n 100
    .venv/bin/python bench/answer_trust.py --set hotpot --split train --n 60 --dump out.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import time
from dataclasses import dataclass, field

from _common import DATA, OUT, write_result
from zhiku.core.settings import Settings
from zhiku.ingest.pipeline import SourceItem
from zhiku.service import Zhiku

KB = "trust"


@dataclass(slots=True)
class Question:
    text: str
    answers: list[str]
    gold: set[str] = field(default_factory=set)  # sources of the gold passages; empty: none


@dataclass(slots=True)
class MixedSet:
    passages: dict[str, str]  # source name -> text
    answerable: list[Question]
    unanswerable: list[Question]


def cmrc_set(split: str, n: int, seed: int = 7) -> MixedSet:
    """Articles of CMRC 2018 (trial for train, dev for test), half ingested, half held out."""
    name = "cmrc2018_trial.json" if split == "train" else "cmrc2018_dev.json"
    data = json.loads((DATA / "cmrc2018" / name).read_text(encoding="utf-8"))["data"]
    articles = list(data)
    random.Random(seed).shuffle(articles)
    half = -(-n // 3)  # ~4 questions an article: enough articles for n questions per side
    articles = articles[: 2 * half]
    passages: dict[str, str] = {}
    answerable: list[Question] = []
    unanswerable: list[Question] = []
    for i, article in enumerate(articles):
        for p in article["paragraphs"]:
            for q in p["qas"]:
                answers = [a["text"] for a in q["answers"] if a["text"].strip()]
                if i < half:
                    answerable.append(Question(q["question"], answers, {f"{p['id']}.txt"}))
                else:
                    unanswerable.append(Question(q["question"], answers))
            if i < half:
                passages[f"{p['id']}.txt"] = p["context"]
    rng = random.Random(seed)
    return MixedSet(passages, rng.sample(answerable, min(n, len(answerable))),
                    rng.sample(unanswerable, min(n, len(unanswerable))))


def hotpot_set(split: str, n: int) -> MixedSet:
    """HotpotQA-500: block A's paragraphs ingested, block B's questions unanswerable."""
    rows = [json.loads(line) for line in
            (DATA / "hotpotqa500" / "dev_subsampled.jsonl").read_text().splitlines() if line]
    rows = rows[0::2] if split == "train" else rows[1::2]  # the file is ordered by question type
    block_a, block_b = rows[:n], rows[n : 2 * n]
    passages: dict[str, str] = {}
    answerable: list[Question] = []
    for row in block_a:
        gold = set()
        for c in row["contexts"]:
            source = _title_source(c["title"])
            passages[source] = f"{c['title']}\n{c['paragraph_text']}"
            if c["is_supporting"]:
                gold.add(source)
        answers = [s for a in row["answers_objects"] for s in a["spans"] if s.strip()]
        answerable.append(Question(row["question_text"], answers, gold))
    unanswerable = [
        Question(row["question_text"], [])
        for row in block_b
        if not any(_title_source(c["title"]) in passages for c in row["contexts"]
                   if c["is_supporting"])
    ]
    return MixedSet(passages, answerable, unanswerable)


def _title_source(title: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in title)[:80] + ".txt"


def contains(answer: str, golds: list[str]) -> bool:
    """The answer contains one gold span (case- and space-insensitive)."""
    flat = "".join(answer.lower().split())
    return any("".join(g.lower().split()) in flat for g in golds)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--set", choices=("cmrc", "hotpot"), required=True)
    ap.add_argument("--split", choices=("train", "test"), default="test")
    ap.add_argument("--n", type=int, default=100, help="questions per side (hotpot: block size)")
    ap.add_argument("--embedder", default="minilm")
    ap.add_argument("--reuse", action="store_true")
    ap.add_argument("--tag", default="", help="suffix of the result file (before/after)")
    ap.add_argument("--dump", default="", help="write per-question relevance here (JSONL)")
    args = ap.parse_args()

    mixed = cmrc_set(args.split, args.n) if args.set == "cmrc" else hotpot_set(args.split, args.n)
    home = OUT / f"trust-{args.set}-{args.split}-{args.n}-{args.embedder}{args.tag}"
    fresh = not (args.reuse and (home / "zhiku.db").exists())
    if fresh and home.exists():
        shutil.rmtree(home)
    zk = Zhiku(Settings(home=home))
    started = time.perf_counter()
    if fresh:
        zk.create_kb(KB, embedder=args.embedder, chunk_tokens=4096, chunk_overlap=0)
        report = zk.ingest_items(
            KB, (SourceItem(src, data=text.encode()) for src, text in mixed.passages.items())
        )
        assert not report.failed
    build_s = time.perf_counter() - started

    dump = []
    refused_ans, refused_un, contains_gold, cites_gold, answered = 0, 0, 0, 0, 0
    started = time.perf_counter()
    for kind, questions in (("answerable", mixed.answerable), ("unanswerable", mixed.unanswerable)):
        for q in questions:
            if not q.text.strip():  # a few CMRC questions are empty
                continue
            ans = zk.ask(KB, q.text)
            best = max((h.relevance for h in ans.hits), default=0.0)
            dump.append({"kind": kind, "question": q.text, "best_relevance": best,
                         "refused": ans.refused, "answer": ans.answer, "gold": q.answers,
                         "cited": [c.source for c in ans.citations],
                         "top": [h.source for h in ans.hits[:3]]})
            if kind == "unanswerable":
                refused_un += ans.refused
                continue
            if ans.refused:
                refused_ans += 1
                continue
            answered += 1
            contains_gold += contains(ans.answer, q.answers)
            cites_gold += any(c.source in q.gold for c in ans.citations)
    ask_s = time.perf_counter() - started
    n_ans = sum(d["kind"] == "answerable" for d in dump)
    n_un = len(dump) - n_ans
    metrics = {
        "false_refusal": round(refused_ans / max(n_ans, 1), 4),
        "correct_refusal": round(refused_un / max(n_un, 1), 4),
        "answer_contains_gold": round(contains_gold / max(answered, 1), 4),
        "cites_gold": round(cites_gold / max(answered, 1), 4),
    }
    result = {
        "set": args.set, "split": args.split, "embedder": args.embedder,
        "passages": len(mixed.passages), "answerable": n_ans, "unanswerable": n_un,
        "build_seconds": round(build_s, 1), "ask_ms_mean": round(1000 * ask_s / (n_ans + n_un), 1),
        "metrics": metrics,
        "best_relevance_median": {
            k: round(statistics.median(d["best_relevance"] for d in dump if d["kind"] == k), 4)
            for k in ("answerable", "unanswerable")
        },
    }
    print(json.dumps(result, indent=2, ensure_ascii=False))
    if args.dump:
        with open(args.dump, "w", encoding="utf-8") as fh:
            for row in dump:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    write_result(f"answer_trust_{args.set}_{args.split}{args.tag}", result)


if __name__ == "__main__":
    main()
