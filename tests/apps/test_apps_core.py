"""``zk.apps``: one life cycle and one run over assistants, workflows and agents, on a real
database (both backends) with models on the scripted OpenAI-compatible server."""

from __future__ import annotations

from typing import Any

import pytest
from apps_support import CHAT_FLOW, MODEL

from scripted_llm import Script
from zhiku.core.errors import Conflict, InvalidInput, NotFound
from zhiku.service import Zhiku


def test_slugs_are_unique_across_kinds(zk: Zhiku) -> None:
    with pytest.raises(Conflict, match="assistant 'helpdesk' already exists"):
        zk.workflows.create("Clash", CHAT_FLOW, slug="helpdesk")
    with pytest.raises(Conflict, match="workflow 'chatflow' already exists"):
        zk.agents.create({"name": "Clash", "model": MODEL}, slug="chatflow")
    with pytest.raises(Conflict, match="agent 'helper' already exists"):
        zk.create_assistant("Clash", slug="helper", knowledge_bases=["hr"])
    with pytest.raises(Conflict, match="assistant 'helpdesk' already exists"):
        zk.create_assistant("Again", slug="helpdesk", knowledge_bases=["hr"])
    assert [a.slug for a in zk.apps.list()] == ["chatflow", "form", "helpdesk", "helper"]


def test_the_list_shows_every_kind_with_its_live_version_and_draft_state(zk: Zhiku) -> None:
    apps = {a.slug: a.to_dict() for a in zk.apps.list()}
    assert {s: a["kind"] for s, a in apps.items()} == {
        "helpdesk": "assistant", "chatflow": "workflow", "form": "workflow", "helper": "agent"}
    assert all(a["live_version"] == 1 and a["state"] == "published" for a in apps.values())
    zk.agents.update("helper", {"name": "Helper", "model": MODEL, "instructions": "Be brief."})
    zk.workflows.create("Fresh", CHAT_FLOW, slug="fresh")
    states = {a.slug: a.state for a in zk.apps.list()}
    assert states["helper"] == "changed" and states["fresh"] == "unpublished"
    got = zk.apps.get("helper").to_dict(with_definitions=True)
    assert got["draft"]["instructions"] == "Be brief." and got["live"]["instructions"] == ""
    with pytest.raises(NotFound, match="app 'nope' does not exist"):
        zk.apps.get("nope")


@pytest.mark.parametrize("slug", ["helpdesk", "chatflow", "form", "helper"])
def test_rollback_points_live_at_an_earlier_version(zk: Zhiku, slug: str) -> None:
    assert zk.apps.publish(slug, "second") == 2
    summary = zk.apps.rollback(slug, 1)
    assert summary.live_version == 1
    assert [(v["version"], v["live"]) for v in zk.apps.versions(slug)] == [(2, False), (1, True)]
    assert zk.apps.publish(slug) == 3
    with pytest.raises(NotFound):
        zk.apps.rollback(slug, 9)


@pytest.mark.parametrize("slug", ["helpdesk", "chatflow", "form", "helper"])
def test_rollback_without_a_version_steps_back_one_at_a_time(zk: Zhiku, slug: str) -> None:
    """Every kind picks the version before the live one the same way, down to the first."""
    zk.apps.publish(slug)
    zk.apps.publish(slug)
    assert zk.apps.rollback(slug).live_version == 2
    assert zk.apps.rollback(slug).live_version == 1
    with pytest.raises(Conflict, match="has no version before v1"):
        zk.apps.rollback(slug)
    assert zk.apps.get(slug).live_version == 1


def test_a_rolled_back_workflow_runs_its_earlier_definition(zk: Zhiku, scripted: Any) -> None:
    changed = {**CHAT_FLOW, "nodes": [*CHAT_FLOW["nodes"][:2], {
        "id": "answer", "type": "answer", "text": "v2: {{ llm.text }}"}]}
    zk.workflows.update("chatflow", changed)
    zk.apps.publish("chatflow")
    scripted.push(Script(text="hello"), Script(text="hello"))
    assert zk.apps.run("chatflow", {"query": "hi"}).output == "v2: hello"
    zk.apps.rollback("chatflow", 1)
    result = zk.apps.run("chatflow", {"query": "hi"})
    assert result.output == "hello" and result.version == 1


def test_every_kind_runs_to_one_result(zk: Zhiku, scripted: Any) -> None:
    assistant = zk.apps.run("helpdesk", {"query": "How many days of annual leave?"})
    assert assistant.kind == "assistant" and assistant.status == "succeeded"
    assert assistant.output and assistant.citations and assistant.grounded
    assert assistant.run_id is not None

    scripted.push(Script(text="Workflow says hi", usage=(10, 4)))
    flow = zk.apps.run("chatflow", {"query": "hi"})
    assert (flow.output, flow.status, flow.outputs["answer"]) == (
        "Workflow says hi", "succeeded", "Workflow says hi")
    assert (flow.input_tokens, flow.output_tokens) == (10, 4) and flow.cost > 0
    assert [n["node_id"] for n in flow.detail["nodes"]] == ["start", "llm", "answer"]

    form = zk.apps.run("form", {"name": "Ada", "age": 36})
    assert form.outputs == {"who": "Ada", "age": 36} and form.output == "Ada"

    scripted.push(Script(text="Agent says hi", usage=(20, 5)))
    agent = zk.apps.run("helper", {"messages": [{"role": "user", "content": "hi"}]})
    assert (agent.output, agent.status, agent.detail["stop_reason"]) == (
        "Agent says hi", "succeeded", "answered")
    assert agent.run_id is not None and agent.input_tokens == 20


@pytest.mark.parametrize("slug", ["helpdesk", "chatflow", "helper"])
def test_every_kind_streams_one_vocabulary(zk: Zhiku, scripted: Any, slug: str) -> None:
    scripted.push(Script(text="Streamed answer"))
    run = zk.apps.stream(slug, {"query": "How many days of annual leave?"})
    events = list(run)
    types = [e.type for e in events]
    assert types[0] == "started" and types[-1] == "done" and "token" in types
    assert "".join(e.data["text"] for e in events if e.type == "token") == run.result.output
    done = events[-1].to_dict()
    assert {"output", "citations", "grounded", "usage", "run_id", "status"} <= set(done)
    assert done["usage"].keys() == {"input_tokens", "output_tokens", "cost", "latency_ms"}
    if slug == "chatflow":
        assert {"node_started", "node_finished"} <= set(types)
    if slug == "helper":
        assert "step" in types


def test_a_failed_run_sends_an_error_then_done(zk: Zhiku, scripted: Any) -> None:
    scripted.push(Script(status=500))
    events = list(zk.apps.stream("chatflow", {"query": "hi"}))
    assert [e.type for e in events][-2:] == ["error", "done"]
    assert events[-1].data["status"] == "failed" and events[-1].data["error"]


def test_bad_inputs_fail_before_the_run(zk: Zhiku) -> None:
    with pytest.raises(InvalidInput, match="unknown inputs"):
        zk.apps.stream("form", {"query": "hi"})
    with pytest.raises(InvalidInput, match="'query' is required"):
        zk.apps.stream("helper", {})
    with pytest.raises(InvalidInput, match="last message must be a non-empty user message"):
        zk.apps.stream("helpdesk", {"messages": [{"role": "assistant", "content": "hi"}]})
    assert zk.workflows.runs("form") == []


def test_chat_shape(zk: Zhiku) -> None:
    assert zk.apps.chat_input("helpdesk") is None and zk.apps.chat_input("helper") is None
    assert zk.apps.chat_input("chatflow") == "query"
    with pytest.raises(InvalidInput, match="not chat-shaped: it requires several inputs"):
        zk.apps.chat_input("form")


def test_run_history_of_every_kind(zk: Zhiku, scripted: Any) -> None:
    zk.apps.run("helpdesk", {"query": "How many days of annual leave?"})
    scripted.push(Script(text="one"), Script(text="two"), Script(text="agent"))
    zk.apps.run("chatflow", {"query": "first"})
    second = zk.apps.run("chatflow", {"query": "second"})
    zk.apps.run("helper", {"query": "hello agent"})
    runs = zk.apps.runs("chatflow")
    assert [r["input"] for r in runs] == [{"query": "second"}, {"query": "first"}]
    assert [r["output"] for r in zk.apps.runs("chatflow", limit=1, offset=1)] == ["one"]
    full = zk.apps.get_run("chatflow", second.run_id or 0)
    assert full["output"] == "two" and full["nodes"][0]["node_id"] == "start"
    (agent,) = zk.apps.runs("helper")
    assert (agent["input"], agent["output"], agent["status"]) == (
        "hello agent", "agent", "succeeded")
    assert zk.apps.get_run("helper", agent["id"])["tool_calls"] == []
    (turn,) = zk.apps.runs("helpdesk")
    assert turn["input"] == "How many days of annual leave?" and turn["kind"] == "assistant"
    assert zk.apps.get_run("helpdesk", turn["id"])["citations"]
    with pytest.raises(NotFound):
        zk.apps.get_run("helper", second.run_id or 0)


def test_usage_per_app(zk: Zhiku, scripted: Any) -> None:
    scripted.push(Script(text="a", usage=(100, 10)), Script(text="b", usage=(100, 10)),
                  Script(text="c", usage=(30, 3)))
    zk.apps.run("chatflow", {"query": "1"})
    zk.apps.run("chatflow", {"query": "2"})
    zk.apps.run("helper", {"query": "3"})
    zk.apps.run("helpdesk", {"query": "How many days of annual leave?"})
    rows = {r["app"]: r for r in zk.apps.usage()}
    flow = rows["chatflow"]
    assert (flow["kind"], flow["requests"], flow["input_tokens"], flow["output_tokens"]) == (
        "workflow", 2, 200, 20)
    assert flow["cost"] == pytest.approx(2 * (100 * 2.0 + 10 * 8.0) / 1e6)
    assert (rows["helper"]["requests"], rows["helper"]["input_tokens"]) == (1, 30)
    assert rows["helpdesk"]["requests"] == 1
    (only,) = zk.apps.usage("helper")
    assert only["app"] == "helper"
    (daily,) = zk.apps.usage("chatflow", bucket="day")
    assert daily["bucket"] and daily["requests"] == 2
    assert zk.apps.usage("chatflow", since="2999-01-01") == []
