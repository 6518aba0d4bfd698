"""Provable releases of workflows and agents through the Python API and ``zk.apps``: a
chat-shaped workflow (the grounded answerer over a small real knowledge base) and an agent (on
the scripted OpenAI-compatible server, searching that knowledge base) are bound to an eval set
like an assistant; a worse draft is refused naming the metric, ``force`` records who and why,
the gate fails after a knowledge base change, and nothing the scorecards ran lands in the apps'
run history."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from releasedata import NOTES, break_kb, flow, seed
from scripted_llm import scripted_server
from zhiku.core.errors import Conflict, InvalidInput
from zhiku.evals import runs
from zhiku.service import Zhiku

ANSWERS = {question: text for text, question, _ in NOTES.values()}
BROKEN = "Answer from memory."
"""An agent draft whose instructions say this gets no knowledge search from the scripted
model: it answers without looking anything up."""


def reply(payload: dict[str, Any]) -> Any:
    """The scripted model: search the knowledge base for the user's question, then answer with
    the note that holds its answer citing passage 1 (or, told to answer from memory, say it
    does not know)."""
    Script = scripted_server.Script
    messages = payload.get("messages", [])
    system = " ".join(str(m.get("content")) for m in messages if m.get("role") == "system")
    question = next(str(m["content"]) for m in messages if m.get("role") == "user")
    if BROKEN in system:
        return Script(text="I do not know.")
    if not any(m.get("role") == "tool" for m in messages):
        return Script(text="", tool_calls=[("knowledge_search",
                                            json.dumps({"query": question}))])
    return Script(text=f"{ANSWERS.get(question.strip(), 'No idea.')} [1]")


@pytest.fixture
def scripted() -> Iterator[Any]:
    server = scripted_server.ScriptedServer().start()
    server.default = reply
    yield server
    server.stop()


@pytest.fixture
def hr(zk: Zhiku) -> Zhiku:
    seed(zk)
    zk.workflows.create("HR flow", flow(), slug="hr-flow")
    zk.apps.publish("hr-flow")
    return zk


@pytest.fixture
def agent(hr: Zhiku, scripted: Any) -> Zhiku:
    hr.add_provider("scripted", base_url=scripted.url, models=["scripted-model"],
                    context_window=8192, price_input=2.0, price_output=8.0, max_retries=0)
    hr.agents.create({"name": "HR agent", "model": "scripted/scripted-model",
                      "instructions": "Answer from the HR notes.", "knowledge_bases": ["hr"]},
                     slug="hr-agent")
    hr.apps.publish("hr-agent")
    return hr


def test_a_workflow_scorecard_runs_draft_and_live_and_nothing_lands_in_its_history(
        hr: Zhiku) -> None:
    binding = hr.releases.bind("HR flow", "hr")  # a workflow by its name too
    assert binding.set_name == "hr" and hr.releases.binding("hr-flow") == binding
    card = hr.releases.scorecard("hr-flow")
    assert card.passed and card.baseline is not None
    assert card.baseline.run.id == card.candidate.run.id  # the draft is the live version
    assert card.candidate.run.target == "workflow:hr-flow@draft"
    metrics = card.candidate.run.summary["metrics"]
    assert (metrics["ndcg@10"], metrics["contains_answer"], metrics["citation_recall"]) == (
        1.0, 1.0, 1.0)
    assert hr.apps.runs("hr-flow") == []  # eval questions are not app runs
    assert hr.apps.publish("hr-flow", note="same") == 2
    release = hr.apps.versions("hr-flow")[0]["release"]
    assert release["scorecard_run"] == card.candidate.run.id and release["forced_by"] is None


def test_a_worse_workflow_draft_is_refused_with_the_named_metric(hr: Zhiku) -> None:
    hr.releases.bind("hr-flow", "hr")
    hr.workflows.update("hr-flow", flow(top_k=1, min_relevance=0.99))
    with pytest.raises(Conflict) as caught:
        hr.apps.publish("hr-flow")
    message = caught.value.message
    assert "draft is worse than v1 on 'hr'" in message and "f1: " in message
    regressed = {d["metric"] for d in caught.value.details["regressions"]}
    assert {"f1", "ndcg@10"} <= regressed
    assert hr.apps.get("hr-flow").live_version == 1
    assert [v["version"] for v in hr.apps.versions("hr-flow")] == [1]


def test_force_publishes_a_worse_workflow_and_records_who_and_why(hr: Zhiku) -> None:
    hr.releases.bind("hr-flow", "hr", metrics=["f1"])
    hr.workflows.update("hr-flow", flow(text="Please ask HR."))  # the answer is dropped
    with pytest.raises(InvalidInput, match="needs a reason"):
        hr.apps.publish("hr-flow", force=True)
    version = hr.apps.publish("hr-flow", force=True, reason="HR wants a hand-off",
                              actor="alice")
    assert version == 2 and hr.apps.get("hr-flow").live_version == 2
    release = hr.apps.versions("hr-flow")[0]["release"]
    assert (release["forced_by"], release["force_reason"]) == ("alice", "HR wants a hand-off")
    assert [d["metric"] for d in release["regressions"]] == ["f1"]
    assert hr.apps.rollback("hr-flow").live_version == 1  # one call back


def test_the_workflow_gate_fails_after_a_knowledge_base_change(hr: Zhiku) -> None:
    hr.releases.bind("hr-flow", "hr")
    hr.apps.publish("hr-flow")  # v2, its scorecard stored
    assert hr.releases.gate("hr-flow").passed
    break_kb(hr)
    broken = hr.releases.gate("hr-flow")
    assert not broken.passed and "ndcg@10" in {d.metric for d in broken.regressions}
    assert "v2 now is worse than v2 stored on 'hr'" in broken.message()


def test_a_workflow_that_is_not_chat_shaped_cannot_be_bound(hr: Zhiku) -> None:
    two = {"nodes": [{"id": "start", "type": "start", "inputs": [{"name": "a"}, {"name": "b"}]},
                     {"id": "out", "type": "answer", "text": "{{ start.a }}{{ start.b }}"}],
           "edges": [{"source": "start", "target": "out"}]}
    hr.workflows.create("Two", two, slug="two")
    with pytest.raises(InvalidInput, match="not chat-shaped"):
        hr.releases.bind("two", "hr")


def test_an_agent_is_bound_scored_and_its_worse_draft_refused(agent: Zhiku) -> None:
    zk = agent
    zk.releases.bind("hr-agent", "hr")
    card = zk.releases.scorecard("hr-agent")
    assert card.passed and card.candidate.run.target == "agent:hr-agent@draft"
    summary = card.candidate.run.summary
    assert (summary["metrics"]["ndcg@10"], summary["metrics"]["contains_answer"]) == (1.0, 1.0)
    assert zk.apps.runs("hr-agent") == []
    zk.agents.update("hr-agent", {"name": "HR agent", "model": "scripted/scripted-model",
                                  "instructions": BROKEN, "knowledge_bases": ["hr"]})
    with pytest.raises(Conflict, match="draft is worse than v1 on 'hr'") as caught:
        zk.apps.publish("hr-agent")
    assert "f1" in {d["metric"] for d in caught.value.details["regressions"]}
    assert zk.apps.publish("hr-agent", force=True, reason="trying it", actor="bob") == 2
    assert zk.apps.versions("hr-agent")[0]["release"]["forced_by"] == "bob"
    gate = zk.releases.gate("hr-agent")
    assert gate.passed and gate.baseline is not None  # v2 against its own stored scorecard
    assert len(runs.list_runs(zk.evals)) >= 3
