"""Workflows over HTTP: save with named validation errors, publish, run (JSON and server-sent
events), the run history with per-node records, replay, and isolation between workspaces."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from api_helpers import api_settings, make_tenant
from fastapi.testclient import TestClient

from zhiku.api.app import create_app
from zhiku.core.settings import Settings

FLOW: dict[str, Any] = {
    "nodes": [
        {"id": "start", "type": "start", "inputs": [{"name": "q", "type": "string"}]},
        {"id": "check", "type": "condition",
         "cases": [{"id": "long", "when": "len(start.q) > 10"}]},
        {"id": "long_reply", "type": "template", "template": "Long question: {{ start.q }}"},
        {"id": "short_reply", "type": "template", "template": "Short: {{ start.q }}"},
        {"id": "end", "type": "end",
         "outputs": {"text": "long_reply.text or short_reply.text"}},
    ],
    "edges": [
        {"source": "start", "target": "check"},
        {"source": "check", "target": "long_reply", "handle": "long"},
        {"source": "check", "target": "short_reply", "handle": "else"},
        {"source": "long_reply", "target": "end"},
        {"source": "short_reply", "target": "end"},
    ],
}


pytestmark = pytest.mark.shared_server


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory,
          make_settings: Callable[..., Settings]) -> Iterator[dict[str, Any]]:
    home = tmp_path_factory.mktemp("wf") / "home"
    base = api_settings(home)  # on the run's backend (PostgreSQL in that pass)
    settings = make_settings(home, **{
        k: getattr(base, k) for k in ("embedder", "api_rate_limit_per_minute", "ocr")})
    with TestClient(create_app(settings)) as client:
        acme, globex = make_tenant(settings, "acme"), make_tenant(settings, "globex")
        yield {"client": client, "acme": acme.headers, "globex": globex.headers}


def test_save_rejects_a_bad_definition_naming_node_and_field(world: dict[str, Any]) -> None:
    client, h = world["client"], world["acme"]
    bad = json.loads(json.dumps(FLOW))
    bad["nodes"][2]["template"] = "{{ nowhere.text }}"
    bad["edges"].append({"source": "end", "target": "start"})
    r = client.post("/v1/workflows", json={"name": "Bad", "definition": bad}, headers=h)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["type"] == "invalid_workflow"
    nodes = {p["node"] for p in error["problems"]}
    assert "long_reply" in nodes  # the unknown reference, named by node
    checked = client.post("/v1/workflow-validation", json={"definition": bad}, headers=h).json()
    assert checked["valid"] is False and checked["problems"]
    assert client.get("/v1/workflows", headers=h).json() == []


def test_publish_run_history_and_replay(world: dict[str, Any]) -> None:
    client, h = world["client"], world["acme"]
    made = client.post("/v1/workflows", json={"name": "Router", "slug": "router",
                                             "definition": FLOW}, headers=h)
    assert made.status_code == 201, made.text
    assert client.post("/v1/workflows/router/publish", json={"note": "first"},
                       headers=h).json() == {"version": 1}
    run = client.post("/v1/workflows/router/run",
                      json={"inputs": {"q": "How many days of leave?"}}, headers=h).json()
    assert run["status"] == "succeeded", run
    assert run["outputs"]["text"] == "Long question: How many days of leave?"
    stored = client.get(f"/v1/workflow-runs/{run['id']}", headers=h).json()
    ran = {n["node_id"]: n["status"] for n in stored["nodes"]}
    assert ran["long_reply"] == "succeeded" and ran.get("short_reply") in (None, "skipped")
    assert all(n["latency_ms"] is not None for n in stored["nodes"])
    again = client.post(f"/v1/workflow-runs/{run['id']}/replay", headers=h).json()
    assert again["id"] != run["id"] and again["outputs"] == run["outputs"]
    history = client.get("/v1/workflows/router/runs", headers=h).json()
    assert [r["id"] for r in history][:2] == [again["id"], run["id"]]


def test_streamed_run_sends_node_events_then_the_result(world: dict[str, Any]) -> None:
    client, h = world["client"], world["acme"]
    client.post("/v1/workflows", json={"name": "Streamer", "slug": "streamer",
                                      "definition": FLOW}, headers=h)
    with client.stream("POST", "/v1/workflows/streamer/run",
                       json={"inputs": {"q": "hi"}, "stream": True}, headers=h) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        events = [json.loads(line[6:]) for line in r.iter_lines() if line.startswith("data: ")]
    kinds = [e["type"] for e in events]
    assert kinds[0] == "run_started" and kinds[-1] == "run_finished"
    assert {"node_started", "node_finished"} <= set(kinds)
    assert events[-1]["outputs"]["text"] == "Short: hi"


def test_bad_inputs_and_other_workspaces(world: dict[str, Any]) -> None:
    client, h, other = world["client"], world["acme"], world["globex"]
    client.post("/v1/workflows", json={"name": "Mine", "slug": "mine", "definition": FLOW},
                headers=h)
    missing = client.post("/v1/workflows/mine/run", json={"inputs": {}}, headers=h)
    assert missing.status_code == 400 and "q" in missing.json()["error"]["message"]
    run = client.post("/v1/workflows/mine/run", json={"inputs": {"q": "x"}}, headers=h).json()
    assert client.get("/v1/workflows/mine", headers=other).status_code == 404
    assert client.post("/v1/workflows/mine/run", json={"inputs": {"q": "x"}},
                       headers=other).status_code == 404
    assert client.get(f"/v1/workflow-runs/{run['id']}", headers=other).status_code == 404
    assert client.get("/v1/workflows", headers=other).json() == []


def test_unknown_workflow_is_404(world: dict[str, Any], tmp_path: Path) -> None:
    r = world["client"].post("/v1/workflows/nope/run", json={"inputs": {}},
                             headers=world["acme"])
    assert r.status_code == 404
