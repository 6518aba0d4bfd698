"""Eval sets and runs for real: SQLite, ingestion, hybrid search, the extractive answerer."""

from __future__ import annotations

import pytest
from evalsdata import CMRC_TRIAL, need

from zhiku.core.errors import Conflict, InvalidInput, NotFound
from zhiku.evals import gate, importers, runs, sets
from zhiku.evals.importers import squad
from zhiku.evals.targets import KbTarget
from zhiku.evals.types import EvalQuestion
from zhiku.ingest.pipeline import SourceItem
from zhiku.service import Zhiku

PARAGRAPHS = 15


@pytest.fixture
def cmrc_kb(zk: Zhiku) -> list[EvalQuestion]:
    """The first CMRC 2018 trial paragraphs ingested (one document each) and their questions."""
    need(CMRC_TRIAL)
    paras = list(squad.paragraphs(CMRC_TRIAL))[:PARAGRAPHS]
    zk.create_kb("cmrc", embedder="hashing", chunk_tokens=4096, chunk_overlap=0)
    report = zk.ingest_items("cmrc", [SourceItem(f"{pid}.txt", data=text.encode())
                                      for pid, text, _ in paras])
    assert not report.failed
    wanted = {pid for pid, _, _ in paras}
    qs = [q for q in importers.load(CMRC_TRIAL) if set(q.expected_sources) <= wanted][:40]
    qs.append(EvalQuestion("What is the airspeed velocity of an unladen swallow?",
                           ext_id="none", answerable=False))
    return qs


def test_sets_roundtrip(zk: Zhiku) -> None:
    q = EvalQuestion("问题？", ext_id="x", expected_sources={"a.md": 2}, expected_chunks={5: 1},
                     reference_answers=["答"], answerable=False, tags=["t"], metadata={"k": 1})
    created = sets.create_set(zk.evals, "s1", [q, EvalQuestion("second")], description="d")
    assert created.size == 2 and created.name == "s1"
    back = sets.questions(zk.evals, "s1")
    assert back[0].to_dict() == q.to_dict()
    assert back[1].ext_id == "2"  # ids default to position
    assert [x.ext_id for x in sets.questions(zk.evals, "s1", ["t"])] == ["x"]
    with pytest.raises(Conflict):
        sets.create_set(zk.evals, "s1", [q])
    assert sets.create_set(zk.evals, "s1", [q], replace=True).size == 1
    with pytest.raises(InvalidInput, match="twice"):
        sets.create_set(zk.evals, "dup", [q, q])
    assert [s.name for s in sets.list_sets(zk.evals)] == ["s1"]  # the failed set left nothing
    sets.delete_set(zk.evals, "s1")
    with pytest.raises(NotFound):
        sets.get_set(zk.evals, "s1")


def test_run_kb_with_answers(zk: Zhiku, cmrc_kb: list[EvalQuestion]) -> None:
    sets.create_set(zk.evals, "cmrc", cmrc_kb)
    record = runs.run_eval(zk.evals, KbTarget(zk, "cmrc"), "cmrc", runs.RunOptions(top_k=5))
    assert record.status == "done" and record.target == "kb:cmrc"
    summary = record.summary
    assert summary["questions"] == len(cmrc_kb) and summary["errors"] == 0
    metrics = summary["metrics"]
    assert {"hit@1", "recall@5", "ndcg@5", "mrr@5", "em", "f1", "refusal",
            "citation_precision", "citation_recall"} <= set(metrics)
    assert "hit@10" not in metrics  # cut-offs deeper than top_k are not reported
    assert metrics["hit@5"] > 0.8  # character bigrams find Chinese paragraphs
    assert 0 < metrics["f1"] < 1  # extractive answers are whole sentences, not spans
    results = runs.results(zk.evals, record.id)
    assert len(results) == len(cmrc_kb)
    assert all(len(r.retrieved) <= 5 and r.latency_ms > 0 for r in results)
    last = results[-1]
    assert last.ext_id == "none" and last.refused
    assert last.metrics == {"refusal": 1.0, "correct_refusal": 1.0}  # unanswerable: refused
    first = results[0]
    assert first.answer and first.citations and first.question_id is not None
    assert runs.list_runs(zk.evals)[0].id == record.id
    assert runs.list_runs(zk.evals, "other") == []


def test_run_retrieval_only_and_modes(zk: Zhiku, cmrc_kb: list[EvalQuestion]) -> None:
    sets.create_set(zk.evals, "cmrc", cmrc_kb)
    opts = runs.RunOptions(top_k=3, with_answer=False, ks=(1, 3))
    record = runs.run_eval(zk.evals, zk.eval_target("kb", "cmrc", "keyword"), "cmrc", opts)
    assert record.target == "kb:cmrc?mode=keyword"
    assert set(record.summary["metrics"]) == {"hit@1", "recall@1", "ndcg@1", "hit@3",
                                              "recall@3", "ndcg@3", "mrr@3"}
    assert all(r.answer is None for r in runs.results(zk.evals, record.id))


def test_targets_and_errors(zk: Zhiku) -> None:
    with pytest.raises(NotFound):
        zk.eval_target("kb", "missing")
    with pytest.raises(NotFound):
        zk.eval_target("app", "helpdesk")
    with pytest.raises(InvalidInput, match="unknown"):
        zk.eval_target("team", "x")
    with pytest.raises(NotFound):
        runs.get_run(zk.evals, 99)


def test_gate() -> None:
    assert gate.parse_threshold("ndcg@10=0.7") == ("ndcg@10", 0.7)
    for bad in ("ndcg@10", "=1", "f1=abc"):
        with pytest.raises(InvalidInput):
            gate.parse_threshold(bad)
    metrics = {"ndcg@10": 0.65, "f1": 0.9}
    assert gate.failures(metrics, ["f1=0.8"]) == []
    assert gate.failures(metrics, ["ndcg@10=0.7", "f1=0.8"]) == [
        "ndcg@10 = 0.6500 is below 0.7"]
    with pytest.raises(InvalidInput, match="no metric"):
        gate.failures(metrics, ["em=0.1"])
