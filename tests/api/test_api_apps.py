"""``/v1/apps``: one surface over assistants, workflows and agents (list, versions, publish,
roll back, run with streaming, run history, usage) and the OpenAI-compatible endpoint with a
workflow or an agent as ``model``, over real HTTP handling on both backends, with models on the
scripted OpenAI-compatible server."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from api_helpers import HANDBOOK, api_settings, make_tenant, parse_sse, wait_job
from fastapi.testclient import TestClient

from scripted_llm import Script, scripted_server
from zhiku.api.app import create_app
from zhiku.core.settings import Settings

pytestmark = pytest.mark.shared_server
MODEL = "scripted/scripted-model"
CHAT_FLOW: dict[str, Any] = {
    "nodes": [
        {"id": "start", "type": "start", "inputs": [{"name": "question"}]},
        {"id": "llm", "type": "llm", "model": MODEL, "prompt": "{{ start.question }}"},
        {"id": "answer", "type": "answer", "text": "{{ llm.text }}"},
    ],
    "edges": [{"source": "start", "target": "llm"}, {"source": "llm", "target": "answer"}],
}
GROUNDED_FLOW: dict[str, Any] = {
    "nodes": [
        {"id": "start", "type": "start", "inputs": [{"name": "q"}]},
        {"id": "ground", "type": "answer_grounded", "knowledge_bases": ["hr"],
         "question": "{{ start.q }}"},
        {"id": "answer", "type": "answer", "text": "{{ ground.answer }}",
         "citations": "ground.citations"},
    ],
    "edges": [{"source": "start", "target": "ground"}, {"source": "ground", "target": "answer"}],
}
FORM_FLOW: dict[str, Any] = {
    "nodes": [
        {"id": "start", "type": "start",
         "inputs": [{"name": "name"}, {"name": "age", "type": "integer"}]},
        {"id": "end", "type": "end", "outputs": {"who": "start.name"}},
    ],
    "edges": [{"source": "start", "target": "end"}],
}
LEAVE = "How many days of paid annual leave do new employees get?"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory,
          make_settings: Callable[..., Settings]) -> Iterator[dict[str, Any]]:
    home = tmp_path_factory.mktemp("apps") / "home"
    base = api_settings(home)  # on the run's backend (PostgreSQL in that pass)
    settings = make_settings(home, **{
        k: getattr(base, k) for k in ("embedder", "api_rate_limit_per_minute", "ocr")})
    scripted = scripted_server.ScriptedServer().start()
    try:
        with TestClient(create_app(settings)) as client:
            acme, globex = make_tenant(settings, "acme"), make_tenant(settings, "globex")
            zk = client.app.state.api.runtime.workspace(acme.workspace_id)
            zk.add_provider("scripted", base_url=scripted.url, models=["scripted-model"],
                            context_window=8192, max_retries=0, price_input=2.0,
                            price_output=8.0)
            h = acme.headers
            assert client.post("/v1/kbs", json={"name": "hr"}, headers=h).status_code == 201
            job = client.post("/v1/kbs/hr/documents", headers=h, files=[
                ("files", ("handbook.md", HANDBOOK.encode(), "text/markdown"))]).json()
            assert wait_job(client, h, job["id"])["status"] == "done"
            made = [
                client.post("/v1/assistants", headers=h, json={
                    "slug": "helpdesk", "name": "Helpdesk",
                    "config": {"knowledge_bases": ["hr"]}}),
                client.post("/v1/workflows", headers=h, json={
                    "name": "Chat flow", "slug": "chatflow", "definition": CHAT_FLOW}),
                client.post("/v1/workflows", headers=h, json={
                    "name": "Grounded", "slug": "grounded", "definition": GROUNDED_FLOW}),
                client.post("/v1/workflows", headers=h, json={
                    "name": "Form", "slug": "form", "definition": FORM_FLOW}),
                client.post("/v1/agents", headers=h, json={
                    "name": "Helper", "slug": "helper", "config": {"model": MODEL}}),
            ]
            assert [r.status_code for r in made] == [201] * 5, [r.text for r in made]
            scoped = client.post("/v1/keys", headers=h, json={
                "name": "hr only", "access": "admin", "knowledge_bases": ["hr"]}).json()
            reader = client.post("/v1/keys", headers=h, json={
                "name": "reader", "access": "read"}).json()
            yield {"client": client, "acme": h, "globex": globex.headers,
                   "scoped": {"Authorization": f"Bearer {scoped['key']}"},
                   "reader": {"Authorization": f"Bearer {reader['key']}"},
                   "scripted": scripted}
    finally:
        scripted.stop()


def _chunks(text: str) -> list[Any]:
    lines = [ln.removeprefix("data: ") for ln in text.split("\n\n") if ln.strip()]
    assert lines[-1] == "[DONE]"
    return [json.loads(ln) for ln in lines[:-1]]


def test_the_app_list_shows_every_kind_the_caller_may_use(world: dict[str, Any]) -> None:
    client, h = world["client"], world["acme"]
    listed = {a["slug"]: a for a in client.get("/v1/apps", headers=h).json()}
    assert {s: a["kind"] for s, a in listed.items()} == {
        "helpdesk": "assistant", "chatflow": "workflow", "grounded": "workflow",
        "form": "workflow", "helper": "agent"}
    assert listed["helper"]["state"] == "unpublished" and listed["helper"]["live_version"] is None
    one = client.get("/v1/apps/chatflow", headers=h).json()
    assert one["kind"] == "workflow" and one["draft"]["nodes"][1]["id"] == "llm"
    # a key limited to some knowledge bases reaches assistants over them, not the others
    scoped = [a["slug"] for a in client.get("/v1/apps", headers=world["scoped"]).json()]
    assert scoped == ["helpdesk"]
    assert client.get("/v1/apps/chatflow", headers=world["scoped"]).status_code == 403
    assert client.get("/v1/apps", headers=world["globex"]).json() == []
    assert client.get("/v1/apps/helpdesk", headers=world["globex"]).status_code == 404


def test_slugs_are_unique_across_kinds(world: dict[str, Any]) -> None:
    client, h = world["client"], world["acme"]
    clash = client.post("/v1/workflows", headers=h, json={
        "name": "Clash", "slug": "helpdesk", "definition": CHAT_FLOW})
    assert clash.status_code == 409
    assert clash.json()["error"]["message"].startswith("assistant 'helpdesk' already exists")
    assert client.post("/v1/agents", headers=h, json={
        "name": "Clash", "slug": "chatflow", "config": {"model": MODEL}}).status_code == 409
    r = client.post("/v1/assistants", headers=h, json={
        "slug": "helper", "config": {"knowledge_bases": ["hr"]}})
    assert r.status_code == 409 and "agent 'helper'" in r.json()["error"]["message"]


def test_publish_versions_and_rollback(world: dict[str, Any]) -> None:
    client, h = world["client"], world["acme"]
    for note in ("first", "second"):
        r = client.post("/v1/apps/helper/publish", headers=h, json={"note": note})
        assert r.status_code == 200, r.text
    assert r.json()["live_version"] == 2 and r.json()["state"] == "published"
    assert client.post("/v1/apps/helper/publish", headers=world["reader"],
                       json={}).status_code == 403
    back = client.post("/v1/apps/helper/rollback", headers=h, json={"version": 1})
    assert back.status_code == 200 and back.json()["live_version"] == 1
    versions = client.get("/v1/apps/helper/versions", headers=h).json()
    assert [(v["version"], v["note"], v["live"]) for v in versions] == [
        (2, "second", False), (1, "first", True)]
    assert client.post("/v1/apps/helper/rollback", headers=h,
                       json={"version": 7}).status_code == 404
    assert client.post("/v1/apps/nope/rollback", headers=h,
                       json={"version": 1}).status_code == 404


@pytest.mark.parametrize(("slug", "inputs"), [
    ("helpdesk", {"query": LEAVE}), ("chatflow", {"question": "hi"}),
    ("grounded", {"q": LEAVE}), ("helper", {"query": "hi"})])
def test_every_kind_runs_as_json_and_as_events(world: dict[str, Any], slug: str,
                                               inputs: dict[str, Any]) -> None:
    client, h, scripted = world["client"], world["acme"], world["scripted"]
    if slug in ("chatflow", "helper"):  # the others answer extractively, without a model
        scripted.push(Script(text="A model answer.", usage=(12, 3)),
                      Script(text="A model answer.", usage=(12, 3)))
    r = client.post(f"/v1/apps/{slug}/run", headers=h, json={"inputs": inputs})
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["status"] == "succeeded" and result["output"] and result["run_id"]
    assert set(result["usage"]) == {"input_tokens", "output_tokens", "cost", "latency_ms"}
    if slug in ("helpdesk", "grounded"):
        assert result["citations"] and result["grounded"] is True
    streamed = client.post(f"/v1/apps/{slug}/run", headers=h,
                           json={"inputs": inputs, "stream": True})
    assert streamed.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(streamed.text)
    names = [n for n, _ in events]
    assert names[0] == "started" and names[-1] == "done" and "token" in names
    done = events[-1][1]
    assert done["output"] == "".join(d["text"] for n, d in events if n == "token")
    assert {"citations", "grounded", "usage", "run_id"} <= set(done)
    if slug in ("helpdesk", "grounded"):
        assert "citations" in names
    if slug.endswith("flow") or slug == "grounded":
        assert "node_finished" in names


def test_run_errors(world: dict[str, Any]) -> None:
    client, h, scripted = world["client"], world["acme"], world["scripted"]
    bad = client.post("/v1/apps/form/run", headers=h, json={"inputs": {"name": "Ada"}})
    assert bad.status_code == 400 and "'age' is required" in bad.json()["error"]["message"]
    assert client.post("/v1/apps/helper/run", headers=h, json={}).status_code == 400
    assert client.post("/v1/apps/chatflow/run", headers=world["scoped"],
                       json={"inputs": {"question": "hi"}}).status_code == 403
    scripted.push(Script(status=500))
    events = parse_sse(client.post("/v1/apps/chatflow/run", headers=h, json={
        "inputs": {"question": "hi"}, "stream": True}).text)
    assert [n for n, _ in events][-2:] == ["error", "done"]
    assert events[-1][1]["status"] == "failed"


def test_run_history_of_each_kind(world: dict[str, Any]) -> None:
    client, h, scripted = world["client"], world["acme"], world["scripted"]
    scripted.push(Script(text="one"), Script(text="two"))
    client.post("/v1/apps/chatflow/run", headers=h, json={"inputs": {"question": "q1"}})
    client.post("/v1/apps/helper/run", headers=h, json={"query": "q2"})
    client.post("/v1/apps/helpdesk/run", headers=world["reader"], json={"query": LEAVE})
    flow = client.get("/v1/apps/chatflow/runs?limit=1", headers=h).json()
    assert len(flow) == 1 and flow[0]["input"] == {"question": "q1"}
    assert flow[0]["output"] == "one" and flow[0]["kind"] == "workflow"
    one = client.get(f"/v1/apps/chatflow/runs/{flow[0]['id']}", headers=h).json()
    assert [n["node_id"] for n in one["nodes"]] == ["start", "llm", "answer"]
    agent = client.get("/v1/apps/helper/runs", headers=h).json()[0]
    assert (agent["input"], agent["output"]) == ("q2", "two")
    assert client.get(f"/v1/apps/chatflow/runs/{agent['id']}", headers=h).status_code == 404
    # an assistant's turns: a reader sees its own, an admin every one
    mine = client.get("/v1/apps/helpdesk/runs", headers=world["reader"]).json()
    assert [t["input"] for t in mine] == [LEAVE]
    every = client.get("/v1/apps/helpdesk/runs", headers=h).json()
    assert len(every) > len(mine)
    theirs = next(t for t in every if t["id"] != mine[0]["id"])
    assert client.get(f"/v1/apps/helpdesk/runs/{theirs['id']}",
                      headers=world["reader"]).status_code == 404
    assert client.get(f"/v1/apps/helpdesk/runs/{mine[0]['id']}",
                      headers=world["reader"]).json()["citations"]
    assert client.get("/v1/apps/helper/runs", headers=world["globex"]).status_code == 404


def test_usage_per_app(world: dict[str, Any]) -> None:
    client, h, scripted = world["client"], world["acme"], world["scripted"]
    before = client.get("/v1/apps/chatflow/usage", headers=h).json()
    scripted.push(Script(text="x", usage=(1000, 100)))
    client.post("/v1/apps/chatflow/run", headers=h, json={"inputs": {"question": "cost?"}})
    (after,) = client.get("/v1/apps/chatflow/usage", headers=h).json()
    was = before[0] if before else {"requests": 0, "input_tokens": 0, "cost": 0.0}
    assert after["app"] == "chatflow" and after["kind"] == "workflow"
    assert after["requests"] == was["requests"] + 1
    assert after["input_tokens"] == was["input_tokens"] + 1000
    assert after["cost"] == pytest.approx(was["cost"] + (1000 * 2.0 + 100 * 8.0) / 1e6)
    daily = client.get("/v1/apps/chatflow/usage?bucket=day", headers=h).json()
    assert daily[0]["bucket"] and sum(d["requests"] for d in daily) == after["requests"]
    assert client.get("/v1/apps/chatflow/usage", headers=world["reader"]).status_code == 403


def test_openai_completions_with_a_workflow_or_an_agent(world: dict[str, Any]) -> None:
    client, h, scripted = world["client"], world["acme"], world["scripted"]
    ask = [{"role": "user", "content": "earlier"}, {"role": "assistant", "content": "ok"},
           {"role": "user", "content": "Say hi"}]
    scripted.push(Script(text="Hi from the flow", usage=(5, 4)))
    r = client.post("/v1/chat/completions", headers=h,
                    json={"model": "chatflow", "messages": ask})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["choices"][0]["message"]["content"] == "Hi from the flow"
    assert body["usage"] == {"prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9}
    assert scripted.chat_requests[-1]["messages"][-1]["content"] == "Say hi"
    grounded = client.post("/v1/chat/completions", headers=h, json={
        "model": "grounded", "messages": [{"role": "user", "content": LEAVE}]}).json()
    assert grounded["citations"] and grounded["grounded"] is True
    assert grounded["citations"][0]["source"] == "handbook.md"

    scripted.push(Script(text="Hi from the agent"))
    chunks = _chunks(client.post("/v1/chat/completions", headers=h, json={
        "model": "helper", "messages": ask, "stream": True,
        "stream_options": {"include_usage": True}}).text)
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks
                   if c["choices"])
    assert text == "Hi from the agent"
    last = next(c for c in chunks if c["choices"] and c["choices"][0]["finish_reason"])
    assert last["citations"] == [] and "grounded" in last
    assert chunks[-1]["usage"]["total_tokens"] > 0

    stream = _chunks(client.post("/v1/chat/completions", headers=h, json={
        "model": "grounded", "messages": [{"role": "user", "content": LEAVE}],
        "stream": True}).text)
    final = next(c for c in stream if c["choices"] and c["choices"][0]["finish_reason"])
    assert final["citations"] and final["grounded"] is True
    streamed = "".join(c["choices"][0]["delta"].get("content") or "" for c in stream)
    assert streamed.strip()


def test_openai_refuses_a_workflow_that_is_not_chat_shaped(world: dict[str, Any]) -> None:
    client, h = world["client"], world["acme"]
    r = client.post("/v1/chat/completions", headers=h, json={
        "model": "form", "messages": [{"role": "user", "content": "hi"}]})
    assert r.status_code == 400
    assert "not chat-shaped" in r.json()["error"]["message"]
    assert "name, age" in r.json()["error"]["message"]
    assert client.post("/v1/chat/completions", headers=world["scoped"], json={
        "model": "helper", "messages": [{"role": "user", "content": "hi"}]}).status_code == 403
    assert client.post("/v1/chat/completions", headers=h, json={
        "model": "nothing", "messages": [{"role": "user", "content": "hi"}]}).status_code == 404


def test_models_list_the_apps_a_chat_can_run(world: dict[str, Any]) -> None:
    client = world["client"]
    models = [m["id"] for m in client.get("/v1/models", headers=world["acme"]).json()["data"]]
    assert models == ["helpdesk", "chatflow", "grounded", "helper"]  # form is not chat-shaped
    scoped = client.get("/v1/models", headers=world["scoped"]).json()["data"]
    assert [m["id"] for m in scoped] == ["helpdesk"]


def test_openai_stream_of_an_app_ends_with_usage_or_an_error(world: dict[str, Any]) -> None:
    client, h, scripted = world["client"], world["acme"], world["scripted"]
    ask = {"model": "chatflow", "messages": [{"role": "user", "content": "Say hi"}],
           "stream": True, "stream_options": {"include_usage": True}}
    scripted.push(Script(text="Hi", usage=(5, 4)))
    chunks = _chunks(client.post("/v1/chat/completions", headers=h, json=ask).text)
    last = chunks[-1]
    assert last["object"] == "chat.completion.chunk" and last["model"] == "chatflow"
    assert last["id"] == chunks[0]["id"] and last["choices"] == []
    assert last["usage"] == {"prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9}

    scripted.push(Script(status=500))
    failed = _chunks(client.post("/v1/chat/completions", headers=h, json=ask).text)
    assert set(failed[-1]) == {"error"} and failed[-1]["error"]["type"] == "run_failed"
    assert failed[-1]["error"]["message"]


def test_moderation_applies_to_workflow_and_agent_runs(world: dict[str, Any]) -> None:
    client, h, scripted = world["client"], world["acme"], world["scripted"]
    reply = "That cannot be answered here."
    assert client.put("/v1/moderation", headers=h, json={"block_reply": reply, "words": [
        {"word": "salary", "action": "block", "scope": "input"},
        {"word": "secret", "action": "block", "scope": "output"},
        {"word": "fifteen", "action": "mask", "scope": "output"}]}).status_code == 200
    leaky = "Here it is: the se" + "cret code is 42, and that is all there is to say."
    try:
        for slug, field in (("chatflow", "question"), ("helper", "query")):
            blocked = client.post(f"/v1/apps/{slug}/run", headers=h,
                                  json={"inputs": {field: "the CEO's salary?"}}).json()
            assert (blocked["output"], blocked["refused"]) == (reply, True)
            scripted.push(Script(text="New hires get fifteen days."))
            masked = client.post(f"/v1/apps/{slug}/run", headers=h,
                                 json={"inputs": {field: "leave?"}})
            assert "fifteen" not in masked.text
            assert masked.json()["output"] == "New hires get ******* days."
            scripted.push(Script(text=leaky))
            streamed = client.post(f"/v1/apps/{slug}/run", headers=h,
                                   json={"inputs": {field: "code?"}, "stream": True})
            assert "secret" not in streamed.text
            done = parse_sse(streamed.text)[-1][1]
            assert (done["output"], done["refused"]) == (reply, True)
            completion = client.post("/v1/chat/completions", headers=h, json={
                "model": slug, "messages": [{"role": "user", "content": "salary?"}]}).json()
            assert completion["choices"][0]["message"]["content"] == reply
            assert completion["refused"] is True
            scripted.push(Script(text=leaky))
            chunks = client.post("/v1/chat/completions", headers=h, json={
                "model": slug, "stream": True,
                "messages": [{"role": "user", "content": "code?"}]}).text
            assert "secret" not in chunks and reply in chunks
        hits = client.get("/v1/moderation/hits", headers=h).json()
        seen = {(x["direction"], x["action"], x["app"], x["channel"]) for x in hits}
        assert seen >= {(d, a, app, ch) for app in ("chatflow", "helper")
                        for d, a, ch in (("input", "block", "apps"),
                                         ("output", "mask", "apps"),
                                         ("output", "block", "apps"),
                                         ("input", "block", "openai"),
                                         ("output", "block", "openai"))}
    finally:
        client.delete("/v1/moderation", headers=h)
