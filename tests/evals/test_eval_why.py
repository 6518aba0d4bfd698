"""Why a question failed: a reason per failed question from a real run over a small knowledge
base (hashing embedder, extractive answers), and the verdict rule for short references."""

from __future__ import annotations

import pytest

from zhiku.evals import runs, sets, view, why
from zhiku.evals.metrics import token_recall
from zhiku.evals.targets import KbTarget
from zhiku.evals.types import EvalQuestion
from zhiku.ingest.pipeline import SourceItem
from zhiku.service import Zhiku

DOCS = {
    "leave.md": "# 年假\n\n新员工入职第一年享有 5 天带薪年假。\n",
    "expenses.md": "# 报销\n\n报销需要提供原始发票和项目编号。报销款每月发放一次。\n",
    "security.md": "# Security\n\nLaptops must use full-disk encryption at all times.\n",
}


def test_short_reference_in_an_extractive_answer_passes() -> None:
    answer = "新员工入职第一年享有 5 天带薪年假。[1]"
    metrics = {"hit@10": 1.0, "refusal": 1.0, "false_refusal": 0.0, "f1": 0.3,
               "contains_answer": 0.0, "reference_recall": 1.0}
    assert why.reasons(metrics, 10) == []  # F1 < 0.5, but every reference token is there
    assert token_recall(answer, ["5天"]) == 1.0
    assert why.reasons({**metrics, "reference_recall": 0.5}, 10) == ["answer_mismatch"]
    assert why.reasons({**metrics, "reference_recall": 0.5, "contains_answer": 1.0}, 10) == []
    assert why.reasons({"hit@5": 0.0, "false_refusal": 1.0, "f1": 0.0}, 5) == [
        "retrieval_miss", "false_refusal"]
    assert why.reasons({"correct_refusal": 0.0}, 5) == ["answered_unanswerable"]
    assert why.reasons({"faithfulness": 0.25}, 5) == ["unfaithful"]


@pytest.fixture
def kb(zk: Zhiku) -> str:
    zk.create_kb("hr", embedder="hashing")
    report = zk.ingest_items("hr", [SourceItem(n, data=t.encode()) for n, t in DOCS.items()])
    assert not report.failed
    return "hr"


def test_run_results_say_why(zk: Zhiku, kb: str) -> None:
    questions = [
        EvalQuestion("新员工有几天年假？", ext_id="pass", expected_sources={"leave.md": 1},
                     reference_answers=["5 天"]),
        EvalQuestion("新员工有几天年假？", ext_id="miss", expected_sources={"nowhere.md": 1},
                     reference_answers=["5 天"]),
        EvalQuestion("报销需要什么？", ext_id="mismatch", expected_sources={"expenses.md": 1},
                     reference_answers=["三份经理签字的纸质申请表格"]),
        EvalQuestion("What must laptops use?", ext_id="unanswerable", answerable=False),
        EvalQuestion("量子计算机的冷却温度是多少？", ext_id="refused",
                     reference_answers=["15 毫开尔文"]),
    ]
    sets.create_set(zk.evals, "why", questions)
    run = runs.run_eval(zk.evals, KbTarget(zk, kb), "why", runs.RunOptions(top_k=3))
    top_k = 3
    by_id = {r.ext_id: view.result_out(r, top_k, None) for r in runs.results(zk.evals, run.id)}
    assert by_id["pass"]["failed"] is False and by_id["pass"]["reasons"] == []
    assert by_id["pass"]["metrics"]["f1"] < 0.5  # the old rule failed this correct answer
    assert by_id["miss"]["reasons"][0] == "retrieval_miss"
    assert by_id["mismatch"]["reasons"] == ["answer_mismatch"]
    assert by_id["unanswerable"]["reasons"] == ["answered_unanswerable"]
    assert by_id["refused"]["reasons"] == ["false_refusal"]
    counts = view.distributions(runs.results(zk.evals, run.id), top_k)["reasons"]
    assert counts == {"retrieval_miss": 1, "answer_mismatch": 1, "answered_unanswerable": 1,
                      "false_refusal": 1}
