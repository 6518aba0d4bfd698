"""Evaluating an assistant: its model's answers (a scripted OpenAI-compatible server) and its
retrieval settings, with tokens recorded per question."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scripted_llm import Script
from zhiku.evals import runs, sets
from zhiku.evals.types import EvalQuestion
from zhiku.ingest.pipeline import SourceItem
from zhiku.service import Zhiku

LEAVE = "# Leave\n\nNew employees get 10 days of paid annual leave in their first year.\n"


def test_eval_run_on_an_assistant(zk: Zhiku, server: Any) -> None:
    zk.create_kb("hr", embedder="hashing")
    zk.ingest_items("hr", [SourceItem("leave.md", data=LEAVE.encode())])
    zk.add_provider("scripted", base_url=server.url, models=["m"], context_window=4096,
                    max_retries=0)
    zk.create_assistant("HR Bot", knowledge_bases=["hr"], model="scripted/m",
                        retrieval={"top_k": 5, "min_relevance": 0.1})
    server.default = lambda req: Script(text="10 days. [1]",
                                                           usage=(40, 5))
    sets.create_set(zk.evals, "hr", [EvalQuestion(
        "How many days of paid annual leave do new employees get?", ext_id="leave",
        expected_sources={"leave.md": 1}, reference_answers=["10 days"])])
    target = zk.eval_target("app", "hr-bot")
    assert target.name == "app:hr-bot"
    record = runs.run_eval(zk.evals, target, "hr", runs.RunOptions(top_k=5))
    (result,) = runs.results(zk.evals, record.id)
    assert result.answer is not None and "10 days" in result.answer and not result.refused
    assert result.metrics["em"] == 1.0 and result.metrics["hit@1"] == 1.0
    assert result.usage.prompt_tokens == 40 and result.usage.completion_tokens == 5
    assert record.summary["prompt_tokens"] == 40 and record.summary["completion_tokens"] == 5
    retrieval_only = runs.run_eval(zk.evals, target, "hr",
                                   runs.RunOptions(top_k=5, with_answer=False))
    assert retrieval_only.summary["metrics"]["hit@1"] == 1.0
    assert len(server.requests) == 1  # retrieval-only runs make no model call


def test_cost_per_question_from_the_turns_model_calls(zk: Zhiku, server: Any) -> None:
    zk.create_kb("hr", embedder="hashing")
    zk.ingest_items("hr", [SourceItem("leave.md", data=LEAVE.encode())])
    # 2 per million input tokens, 8 per million output tokens.
    zk.add_provider("scripted", base_url=server.url, models=["m"], context_window=4096,
                    max_retries=0, price_input=2.0, price_output=8.0)
    zk.create_assistant("HR Bot", knowledge_bases=["hr"], model="scripted/m",
                        retrieval={"top_k": 5, "min_relevance": 0.1})
    server.default = lambda req: Script(text="10 days. [1]",
                                                          usage=(1000, 250))
    sets.create_set(zk.evals, "hr", [
        EvalQuestion("How many days of paid annual leave do new employees get?", ext_id="a"),
        EvalQuestion("How much paid annual leave do new employees get?", ext_id="b"),
    ])
    record = runs.run_eval(zk.evals, zk.eval_target("app", "hr-bot"), "hr",
                           runs.RunOptions(top_k=5))
    per_call = (1000 * 2.0 + 250 * 8.0) / 1_000_000
    results = runs.results(zk.evals, record.id)
    assert [r.usage.cost for r in results] == pytest.approx([per_call, per_call])
    assert record.summary["cost"] == pytest.approx(2 * per_call)
    calls = [c for c in zk.model_calls() if c["purpose"] == "answer"]
    assert len(calls) == 2 and sum(c["cost"] for c in calls) == pytest.approx(2 * per_call)


def test_generate_with_a_configured_model(zk: Zhiku, server: Any, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from zhiku.cli.main import create_app

    zk.create_kb("hr", embedder="hashing")
    text = LEAVE + "Leave requests go to the direct manager at least two weeks in advance.\n"
    # Short distractors (under sample_chunks' 80 characters: never questioned, always found).
    planets = [SourceItem(f"planet{i}.md", data=f"Planet {i} has the most moons.\n".encode())
               for i in range(30)]
    zk.ingest_items("hr", [SourceItem("leave.md", data=text.encode()), *planets])
    zk.add_provider("scripted", base_url=server.url, models=["m"], context_window=4096,
                    max_retries=0)
    script = Script
    server.default = lambda req: script(
        text="1. How many days of paid annual leave do new employees get?\n"
             "2. how many days of paid annual leave do new employees get\n"
             "3. Which planet has the most moons?")
    result = CliRunner().invoke(create_app(), ["eval", "generate", "gen", "--kb", "hr",
                                               "--model", "scripted/m", "--per-chunk", "3"])
    assert result.exit_code == 0, result.output
    (q,) = sets.questions(zk.evals, "gen")  # a duplicate and an unfindable question were dropped
    assert q.question == "How many days of paid annual leave do new employees get?"
    assert "3 question" in server.requests[0]["messages"][0]["content"]
