"""Stored workflows through ``zk.workflows``: drafts, versions, publishing, recorded runs
with per-node records, replay (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from scripted_llm import scripted_server
from zhiku.core.errors import Conflict, NotFound
from zhiku.service import Zhiku
from zhiku.workflows.events import WorkflowEvent
from zhiku.workflows.schema import WorkflowInvalid

GREETING: dict[str, Any] = {
    "nodes": [
        {"id": "start", "type": "start",
         "inputs": [{"name": "name"}, {"name": "times", "type": "integer", "default": 1}]},
        {"id": "hello", "type": "template",
         "template": "{% for i in range(start.times) %}Hello {{ start.name }}! {% endfor %}"},
        {"id": "end", "type": "end", "outputs": {"text": "strip(hello.text)"}},
    ],
    "edges": [{"source": "start", "target": "hello"}, {"source": "hello", "target": "end"}],
}


def _v2() -> dict[str, Any]:
    data = json.loads(json.dumps(GREETING))
    data["nodes"][1]["template"] = "Hi {{ start.name }}"
    return data


def test_create_publish_and_run_versions(zk: Zhiku) -> None:
    wfs = zk.workflows
    created = wfs.create("Greeting", GREETING)
    assert created.slug == "greeting" and created.published_version is None
    with pytest.raises(Conflict):
        wfs.create("Greeting", GREETING)
    assert wfs.run("greeting", {"name": "Ann"}).result.outputs == {"text": "Hello Ann!"}
    assert wfs.publish("greeting", note="first") == 1
    wfs.update("greeting", _v2())
    # the live version stays v1 until the draft is published; the draft runs on request
    assert wfs.run("greeting", {"name": "Ann"}).result.outputs == {"text": "Hello Ann!"}
    assert wfs.run("greeting", {"name": "Ann"}, draft=True).result.outputs == {"text": "Hi Ann"}
    assert wfs.publish("greeting") == 2
    assert wfs.run("greeting", {"name": "Ann"}).result.outputs == {"text": "Hi Ann"}
    assert wfs.run("greeting", {"name": "Ann"}, version=1).result.outputs == \
        {"text": "Hello Ann!"}
    assert [v["version"] for v in wfs.versions("greeting")] == [2, 1]
    assert [w.slug for w in wfs.list()] == ["greeting"]
    runs = wfs.runs("greeting")
    assert [r["version"] for r in runs] == [1, 2, None, 1, None]
    with pytest.raises(NotFound):
        wfs.run("greeting", {"name": "x"}, version=7)


def test_invalid_definitions_are_not_saved(zk: Zhiku) -> None:
    bad = json.loads(json.dumps(GREETING))
    bad["nodes"][1]["template"] = "{{ ghost.text }}"
    bad["edges"].append({"source": "end", "target": "hello"})
    with pytest.raises(WorkflowInvalid) as caught:
        zk.workflows.create("Bad", bad)
    assert {p.node for p in caught.value.problems} == {"hello", "end"}
    assert zk.workflows.list() == []
    zk.workflows.create("Greeting", GREETING)
    with pytest.raises(WorkflowInvalid):
        zk.workflows.update("greeting", bad)
    assert zk.workflows.get("greeting").draft.node("hello").template.startswith("{% for")


def test_runs_are_recorded_and_replayed(zk: Zhiku) -> None:
    wfs = zk.workflows
    wfs.create("Greeting", GREETING)
    events: list[WorkflowEvent] = []
    first = wfs.run("greeting", {"name": "Bo", "times": 2}, on_event=events.append)
    assert events[0].type == "run_started" and events[0].data["run_id"] == first.id
    assert events[-1].data["run_id"] == first.id
    stored = wfs.get_run(first.id)
    assert stored["status"] == "succeeded" and stored["inputs"] == {"name": "Bo", "times": 2}
    assert stored["outputs"] == {"text": "Hello Bo! Hello Bo!"}
    assert [n["node_id"] for n in stored["nodes"]] == ["start", "hello", "end"]
    hello = stored["nodes"][1]
    assert hello["inputs"] == {"start.times": 2, "start.name": "Bo"}
    assert hello["outputs"] == {"text": "Hello Bo! Hello Bo! "}
    assert hello["status"] == "succeeded" and hello["latency_ms"] >= 0
    wfs.update("greeting", _v2())  # a replay runs the definition as it was run
    again = wfs.replay(first.id)
    assert again.id != first.id and again.result.outputs == stored["outputs"]
    assert wfs.get_run(again.id)["replay_of"] == first.id
    stream = wfs.stream("greeting", {"name": "Cy"})
    kinds = [e.type for e in stream]
    assert kinds[0] == "run_started" and kinds[-1] == "run_finished"
    assert stream.run is not None and wfs.get_run(stream.run.id)["outputs"] == {"text": "Hi Cy"}
    wfs.delete("greeting")
    with pytest.raises(NotFound):
        wfs.get_run(first.id)


def test_failed_runs_are_recorded(zk: Zhiku) -> None:
    data = json.loads(json.dumps(GREETING))
    data["nodes"][2]["outputs"] = {"n": "int(start.name)"}
    zk.workflows.create("Fails", data)
    run = zk.workflows.run("fails", {"name": "Ann"})
    stored = zk.workflows.get_run(run.id)
    assert stored["status"] == "failed" and stored["error"].startswith("node end failed:")
    assert stored["nodes"][-1]["status"] == "failed" and stored["nodes"][-1]["error"]


def test_model_calls_are_accounted_per_run(zk: Zhiku, scripted: Any, model: str) -> None:
    data = {"nodes": [{"id": "start", "type": "start", "inputs": [{"name": "q"}]},
                      {"id": "ask", "type": "llm", "model": model, "prompt": "{{ start.q }}"},
                      {"id": "end", "type": "end", "outputs": {"a": "ask.text"}}],
            "edges": [{"source": "start", "target": "ask"}, {"source": "ask", "target": "end"}]}
    zk.workflows.create("Ask", data)
    scripted.push(scripted_server.Script(text="forty-two"))
    run = zk.workflows.run("ask", {"q": "meaning?"})
    stored = zk.workflows.get_run(run.id)
    assert stored["outputs"] == {"a": "forty-two"}
    assert (stored["input_tokens"], stored["output_tokens"]) == (50, 7)
    assert stored["cost"] == pytest.approx((50 * 2.0 + 7 * 8.0) / 1e6)
    assert stored["nodes"][1]["cost"] == pytest.approx(stored["cost"])
    assert [c["purpose"] for c in zk.model_calls()] == ["workflow"]
