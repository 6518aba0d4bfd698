"""Feedback on logged answers and the curated exports, validated by loading them back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from zhiku.answer.types import Answer
from zhiku.core.errors import InvalidInput, NotFound
from zhiku.evals import export, feedback, sets
from zhiku.evals.feedback import FeedbackFilter
from zhiku.evals.importers import jsonl
from zhiku.ingest.pipeline import SourceItem
from zhiku.service import Zhiku

HANDBOOK = (
    "# Leave\n\nNew employees get 15 days of annual leave per year. Requests go to "
    "hr@example.com or 13812345678.\n\n# Expenses\n\nExpense claims need the original invoice "
    "and the approval form. Claims are paid within 10 working days.\n"
)
Q_LEAVE = "How many days of annual leave do new employees get?"
Q_EXPENSE = "What do expense claims need?"


def _load(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def rated(zk: Zhiku) -> dict[str, int]:
    zk.create_kb("hb", embedder="hashing")
    zk.ingest_items("hb", [SourceItem("handbook.md", data=HANDBOOK.encode())])
    ids = {}
    ids["up"], answer = feedback.ask(zk, "hb", Q_LEAVE)
    assert not answer.refused and "15 days" in answer.answer
    feedback.add_feedback(zk, ids["up"], 1, tags=["hr"])
    ids["corrected"], _ = feedback.ask(zk, "hb", Q_EXPENSE)
    feedback.add_feedback(zk, ids["corrected"], -1, comment="incomplete",
                          corrected_answer="The original invoice and the approval form.",
                          tags=["finance"])
    wrong = Answer("New employees get 30 days of leave. [1]")
    ids["down"] = feedback.log_answer(zk, "kb:hb", Q_LEAVE.lower().rstrip("?"), wrong)
    feedback.add_feedback(zk, ids["down"], 0)
    feedback.add_feedback(zk, ids["down"], -1, comment="later feedback wins")
    ids["unrated"], _ = feedback.ask(zk, "hb", "Who approves claims?")
    return ids


def test_log_and_feedback(zk: Zhiku, rated: dict[str, int]) -> None:
    a = feedback.get_answer(zk, rated["down"])
    assert a.rating == -1 and a.comment == "later feedback wins" and a.target == "kb:hb"
    assert a.hits == [] and a.message_id is None
    assert feedback.get_answer(zk, rated["up"]).hits[0]["source"] == "handbook.md"
    assert feedback.get_answer(zk, rated["unrated"]).rating is None
    assert len(feedback.list_answers(zk)) == 3  # only answers with feedback
    assert len(feedback.list_answers(zk, FeedbackFilter(with_feedback=False))) == 4
    assert [x.id for x in feedback.list_answers(zk, FeedbackFilter(rating=1))] == [rated["up"]]
    assert [x.id for x in feedback.list_answers(zk, FeedbackFilter(tags=["finance"]))] == [
        rated["corrected"]]
    assert feedback.list_answers(zk, FeedbackFilter(target="kb:other")) == []
    assert feedback.list_answers(zk, FeedbackFilter(since="2999-01-01")) == []
    assert len(feedback.list_answers(zk, FeedbackFilter(until="2999-01-01"))) == 3
    with pytest.raises(InvalidInput):
        feedback.add_feedback(zk, rated["up"], 5)
    with pytest.raises(NotFound):
        feedback.add_feedback(zk, 999, 1)


def test_sft_export(zk: Zhiku, rated: dict[str, int], tmp_path: Path) -> None:
    answers = feedback.list_answers(zk)
    out = tmp_path / "sft.jsonl"
    assert export.write_jsonl(out, export.sft_records(answers)) == 2  # approved + corrected
    records = _load(out)
    for rec in records:
        msgs = rec["messages"]
        assert isinstance(msgs, list)
        assert [m["role"] for m in msgs] == ["system", "user", "assistant"]
        assert all(isinstance(m["content"], str) and m["content"] for m in msgs)
        assert "Context:\n[1] handbook.md" in msgs[1]["content"]
    first, second = (r["messages"] for r in records)  # type: ignore[index]
    assert Q_LEAVE in first[1]["content"] and "15 days" in first[2]["content"]
    assert "[EMAIL]" in first[1]["content"] and "hr@example.com" not in json.dumps(records)
    assert "13812345678" not in json.dumps(records)
    assert second[2]["content"] == "The original invoice and the approval form."
    raw = list(export.sft_records(answers, redacted=False))
    assert "hr@example.com" in json.dumps(raw)


def test_dpo_export(zk: Zhiku, rated: dict[str, int], tmp_path: Path) -> None:
    out = tmp_path / "dpo.jsonl"
    n = export.write_jsonl(out, export.dpo_records(feedback.list_answers(zk)))
    records = _load(out)
    assert n == len(records) == 2
    for rec in records:
        assert set(rec) == {"input", "preferred_output", "non_preferred_output"}
        assert [m["role"] for m in rec["input"]["messages"]] == ["system", "user"]  # type: ignore[index]
        assert rec["preferred_output"][0]["role"] == "assistant"  # type: ignore[index]
        assert rec["preferred_output"] != rec["non_preferred_output"]
    by_question = {r["input"]["messages"][1]["content"].rsplit("Question: ", 1)[1]: r  # type: ignore[index]
                   for r in records}
    fix = by_question[Q_EXPENSE]
    assert fix["preferred_output"][0]["content"] == "The original invoice and the approval form."  # type: ignore[index]
    # The disliked answer to the leave question loses to the approved one (same question,
    # written differently).
    leave = by_question["how many days of annual leave do new employees get"]
    original_up = feedback.get_answer(zk, rated["up"]).answer
    assert leave["preferred_output"][0]["content"] == export.redact(original_up)  # type: ignore[index]
    assert "30 days" in leave["non_preferred_output"][0]["content"]  # type: ignore[index]


def test_evalset_export_roundtrip_and_feedback_set(
    zk: Zhiku, rated: dict[str, int], tmp_path: Path
) -> None:
    questions = feedback.eval_questions(feedback.list_answers(zk))
    assert [q.ext_id for q in questions] == [f"answer-{rated['up']}",
                                             f"answer-{rated['corrected']}"]
    assert questions[0].expected_sources == {"handbook.md": 1}
    assert "[" not in questions[0].reference_answers[0]  # citation markers stripped
    assert questions[1].expected_sources == {}  # the correction replaced the cited answer
    assert questions[1].cited_sources == ["handbook.md"]  # kept for withholding only
    sets.create_set(zk.evals, "from-feedback", questions)
    out = tmp_path / "set.jsonl"
    written = export.write_jsonl(
        out, export.evalset_records(sets.questions(zk.evals, "from-feedback")))
    assert written == 2
    back = jsonl.load(out)
    assert [q.to_dict() for q in back] == [
        {**q.to_dict(), "reference_answers": [export.redact(r) for r in q.reference_answers]}
        for q in questions]
