"""Agents and tool sources over HTTP: CRUD, publish and rollback; a run against the scripted
OpenAI-compatible server (a knowledge search, then an answer citing it) as JSON and as
server-sent events; OpenAPI tool sources from a real 127.0.0.1 server whose secrets never come
back; MCP failures as 502; other workspaces get 404, keys limited to some names 403."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from api_helpers import HANDBOOK, api_settings, make_tenant, wait_job
from fastapi.testclient import TestClient

from scripted_llm import Script, scripted_server
from zhiku.agents.events import AgentEvent
from zhiku.api.app import create_app
from zhiku.api.sse import sse_events
from zhiku.core.errors import ProviderError
from zhiku.core.settings import Settings

pytestmark = pytest.mark.shared_server

TOKEN = "Bearer tool-s3cret-0123456789"
ENV_SECRET = "env-s3cret-value-42"
MODEL = "scripted/scripted-model"
SPEC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Pets", "version": "1"},
    "paths": {"/pets/{petId}": {"get": {
        "operationId": "getPet", "summary": "One pet by id",
        "parameters": [{"name": "petId", "in": "path", "required": True,
                        "schema": {"type": "integer"}}]}}},
}


class SpecServer:
    """Serves ``SPEC`` at /openapi.json on 127.0.0.1."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                body = json.dumps(SPEC).encode() if self.path == "/openapi.json" else b"{}"
                self.send_response(200 if self.path == "/openapi.json" else 404)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory,
          make_settings: Callable[..., Settings]) -> Iterator[dict[str, Any]]:
    home = tmp_path_factory.mktemp("agents") / "home"
    base = api_settings(home)  # on the run's backend (PostgreSQL in that pass)
    settings = make_settings(home, api_url_allowlist=["127.0.0.1"],
                             mcp_stdio_commands=[sys.executable], **{
        k: getattr(base, k) for k in ("embedder", "api_rate_limit_per_minute", "ocr")})
    scripted = scripted_server.ScriptedServer().start()
    spec_server = SpecServer()
    try:
        with TestClient(create_app(settings)) as client:
            acme, globex = make_tenant(settings, "acme"), make_tenant(settings, "globex")
            zk = client.app.state.api.runtime.workspace(acme.workspace_id)
            zk.add_provider("scripted", base_url=scripted.url, models=["scripted-model"],
                            context_window=8192, max_retries=0)
            h = acme.headers
            assert client.post("/v1/kbs", json={"name": "hr"}, headers=h).status_code == 201
            job = client.post("/v1/kbs/hr/documents", headers=h, files=[
                ("files", ("handbook.md", HANDBOOK.encode(), "text/markdown"))]).json()
            assert wait_job(client, h, job["id"])["status"] == "done"
            scoped = client.post("/v1/keys", headers=h, json={
                "name": "hr only", "access": "admin", "knowledge_bases": ["hr"]}).json()
            yield {"client": client, "acme": h, "globex": globex.headers,
                   "scoped": {"Authorization": f"Bearer {scoped['key']}"},
                   "scripted": scripted, "spec_url": f"{spec_server.url}/openapi.json"}
    finally:
        spec_server.stop()
        scripted.stop()


def _agent(slug: str, **config: Any) -> dict[str, Any]:
    return {"name": "HR helper", "slug": slug,
            "config": {"model": MODEL, "instructions": "Be brief.",
                       "knowledge_bases": ["hr"], **config}}


def test_crud_publish_and_rollback(world: dict[str, Any]) -> None:
    client, h = world["client"], world["acme"]
    made = client.post("/v1/agents", json=_agent("crud"), headers=h)
    assert made.status_code == 201, made.text
    assert made.json()["name"] == "HR helper" and made.json()["draft"]["model"] == MODEL
    bad = client.post("/v1/agents", json=_agent("bad", tools=["nope__tool"]), headers=h)
    assert bad.status_code == 400 and "nope__tool" in bad.json()["error"]["message"]
    assert client.post("/v1/agents", json=_agent("crud"), headers=h).status_code == 409
    assert "crud" in [a["slug"] for a in client.get("/v1/agents", headers=h).json()]
    assert client.post("/v1/agents/crud/publish", json={"note": "first"},
                       headers=h).json() == {"version": 1}
    patched = client.patch("/v1/agents/crud", json={"config": {
        "model": MODEL, "instructions": "Be very brief.", "tools": ["calculator"]}}, headers=h)
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert body["name"] == "HR helper" and body["draft"]["tools"] == ["calculator"]
    assert body["published"]["instructions"] == "Be brief."
    renamed = client.patch("/v1/agents/crud", json={"name": "Renamed"}, headers=h).json()
    assert renamed["name"] == "Renamed" and renamed["draft"]["tools"] == ["calculator"]
    assert client.post("/v1/agents/crud/publish", json={}, headers=h).json() == {"version": 2}
    versions = client.get("/v1/agents/crud/versions", headers=h).json()
    assert [(v["version"], v["live"]) for v in versions] == [(2, True), (1, False)]
    back = client.post("/v1/agents/crud/rollback", json={"version": 1}, headers=h).json()
    assert back["published_version"] == 1 and back["published"]["instructions"] == "Be brief."
    assert client.post("/v1/agents/crud/rollback", json={"version": 9},
                       headers=h).status_code == 404
    assert client.delete("/v1/agents/crud", headers=h).json() == {"deleted": True}
    assert client.get("/v1/agents/crud", headers=h).status_code == 404


def _script(scripted: Any) -> None:
    scripted.push(
        Script(text="", tool_calls=[("knowledge_search", '{"query": "paid annual leave"}')]),
        Script(text="New employees get fifteen days of paid annual leave [1]."))


def test_a_run_searches_then_answers_with_a_citation(world: dict[str, Any]) -> None:
    client, h, scripted = world["client"], world["acme"], world["scripted"]
    client.post("/v1/agents", json=_agent("leave"), headers=h)
    _script(scripted)
    r = client.post("/v1/agents/leave/run", json={"message": "How much leave?"}, headers=h)
    assert r.status_code == 200, r.text
    run = r.json()
    assert run["stop_reason"] == "answered" and run["error"] is None
    assert run["answer"] == "New employees get fifteen days of paid annual leave [1]."
    (citation,) = run["citations"]
    assert citation["n"] == 1 and citation["source"] == "handbook.md"
    (call,) = run["tool_calls"]
    assert call["name"] == "knowledge_search" and call["ok"] is True
    assert run["steps"] == 2 and run["input_tokens"] > 0 and run["output_tokens"] > 0

    _script(scripted)
    with client.stream("POST", "/v1/agents/leave/run",
                       json={"message": "How much leave?", "stream": True}, headers=h) as s:
        assert s.status_code == 200
        assert s.headers["content-type"].startswith("text/event-stream")
        lines = list(s.iter_lines())
    names = [line[7:] for line in lines if line.startswith("event: ")]
    events = [json.loads(line[6:]) for line in lines if line.startswith("data: ")]
    assert names == [e["type"] for e in events]
    kinds = [k for k in names if k != "token"]
    assert kinds == ["run_started", "step", "tool_call", "tool_result", "step", "answer",
                     "citations", "stop"], kinds
    assert "".join(e["text"] for e in events if e["type"] == "token") == run["answer"]
    cited = next(e for e in events if e["type"] == "citations")
    assert cited["citations"][0]["source"] == "handbook.md"
    assert events[-1]["reason"] == "answered"


def test_draft_and_version_runs(world: dict[str, Any]) -> None:
    client, h, scripted = world["client"], world["acme"], world["scripted"]
    client.post("/v1/agents", json=_agent("drafty", knowledge_bases=[]), headers=h)
    scripted.push(Script(text="draft answer"))
    r = client.post("/v1/agents/drafty/run", json={"message": "hi", "draft": True}, headers=h)
    assert r.json()["answer"] == "draft answer"
    missing = client.post("/v1/agents/drafty/run", json={"message": "hi", "version": 3},
                          headers=h)
    assert missing.status_code == 404
    both = client.post("/v1/agents/drafty/run",
                       json={"message": "hi", "version": 1, "draft": True}, headers=h)
    assert both.status_code == 400


def test_a_provider_failure_is_a_result_and_a_late_failure_an_error_event(
        world: dict[str, Any]) -> None:
    client, h, scripted = world["client"], world["acme"], world["scripted"]
    client.post("/v1/agents", json=_agent("flaky", knowledge_bases=[]), headers=h)
    scripted.push(Script(status=500))
    r = client.post("/v1/agents/flaky/run", json={"message": "hi"}, headers=h)
    assert r.status_code == 200 and r.json()["stop_reason"] == "model_error"
    assert r.json()["error"]

    def failing() -> Iterator[AgentEvent]:
        yield AgentEvent("run_started", {"agent": "x"})
        raise ProviderError("the tool server went away")

    sent = "".join(sse_events(failing()))
    *_, last = [block for block in sent.split("\n\n") if block]
    name, data = last.split("\n")
    assert name == "event: error"
    assert json.loads(data[6:]) == {"type": "error", "error": {
        "type": "provider_error", "message": "the tool server went away"}}


def test_openapi_source_from_a_url_never_shows_its_secret(world: dict[str, Any]) -> None:
    client, h = world["client"], world["acme"]
    made = client.post("/v1/tool-sources", headers=h, json={
        "name": "pets", "kind": "openapi", "spec_url": world["spec_url"],
        "base_url": "http://127.0.0.1:9", "auth_headers": {"Authorization": TOKEN}})
    assert made.status_code == 201, made.text
    tools = client.get("/v1/tool-sources/pets/tools", headers=h)
    assert [t["name"] for t in tools.json()] == ["pets__getPet"]
    assert "petId" in json.dumps(tools.json()[0]["parameters"])
    listed = client.get("/v1/tool-sources", headers=h)
    one = client.get("/v1/tool-sources/pets", headers=h)
    for r in (made, tools, listed, one):
        assert r.status_code == 200 or r.status_code == 201
        assert "s3cret" not in r.text
    assert one.json()["secret_names"] == ["Authorization"]
    assert client.post("/v1/tool-sources", headers=h, json={
        "name": "pets", "kind": "openapi", "spec": SPEC,
        "base_url": "http://127.0.0.1:9"}).status_code == 409
    inline = client.post("/v1/tool-sources", headers=h, json={
        "name": "pets", "kind": "openapi", "spec": SPEC, "replace": True,
        "base_url": "http://127.0.0.1:9"})
    assert inline.status_code == 201 and inline.json()["secret_names"] == []
    blocked = client.post("/v1/tool-sources", headers=h, json={
        "name": "far", "kind": "openapi", "spec_url": "http://10.0.0.1/openapi.json"})
    assert blocked.status_code == 400
    agent = _agent("petty", knowledge_bases=[], tools=["pets__getPet"])
    assert client.post("/v1/agents", json=agent, headers=h).status_code == 201
    assert client.delete("/v1/tool-sources/pets", headers=h).json() == {"deleted": True}
    assert client.get("/v1/tool-sources/pets/tools", headers=h).status_code == 404


def test_mcp_sources_keep_env_secret_and_fail_clearly(world: dict[str, Any]) -> None:
    client, h = world["client"], world["acme"]
    made = client.post("/v1/tool-sources", headers=h, json={
        "name": "broken", "kind": "mcp", "command": sys.executable,
        "args": ["-c", "import sys; sys.exit(3)"], "env": {"TOKEN": ENV_SECRET},
        "connect_timeout_s": 5})
    assert made.status_code == 201, made.text
    assert made.json()["secret_names"] == ["TOKEN"] and ENV_SECRET not in made.text
    assert ENV_SECRET not in client.get("/v1/tool-sources", headers=h).text
    failed = client.get("/v1/tool-sources/broken/tools", headers=h)
    assert failed.status_code == 502, failed.text
    assert failed.json()["error"]["type"] == "mcp_error"
    client.post("/v1/tool-sources", headers=h, json={
        "name": "hangs", "kind": "mcp", "command": sys.executable,
        "args": ["-c", "import time; time.sleep(60)"], "connect_timeout_s": 1})
    started = time.monotonic()
    hung = client.get("/v1/tool-sources/hangs/tools", headers=h)
    assert hung.status_code == 502 and "within" in hung.json()["error"]["message"], hung.text
    assert time.monotonic() - started < 15
    mixed = client.post("/v1/tool-sources", headers=h, json={
        "name": "mixed", "kind": "mcp", "command": "x", "spec": SPEC})
    assert mixed.status_code == 400


def test_other_workspaces_and_scoped_keys(world: dict[str, Any]) -> None:
    client, h = world["client"], world["acme"]
    other, scoped = world["globex"], world["scoped"]
    client.post("/v1/agents", json=_agent("mine"), headers=h)
    client.post("/v1/tool-sources", headers=h, json={
        "name": "mine", "kind": "openapi", "spec": SPEC, "base_url": "http://127.0.0.1:9"})
    calls = [("GET", "/v1/agents/mine", None), ("PATCH", "/v1/agents/mine", {"name": "x"}),
             ("DELETE", "/v1/agents/mine", None),
             ("POST", "/v1/agents/mine/publish", {}),
             ("GET", "/v1/agents/mine/versions", None),
             ("POST", "/v1/agents/mine/rollback", {"version": 1}),
             ("POST", "/v1/agents/mine/run", {"message": "hi"}),
             ("POST", "/v1/agents/mine/run", {"message": "hi", "stream": True}),
             ("GET", "/v1/tool-sources/mine", None), ("DELETE", "/v1/tool-sources/mine", None),
             ("GET", "/v1/tool-sources/mine/tools", None)]
    for method, url, body in calls:
        r = client.request(method, url, json=body, headers=other)
        assert r.status_code == 404, (method, url, r.status_code)
        r = client.request(method, url, json=body, headers=scoped)
        assert r.status_code == 403, (method, url, r.status_code)
    assert client.get("/v1/agents", headers=other).json() == []
    assert client.get("/v1/tool-sources", headers=other).json() == []
    for url in ("/v1/agents", "/v1/tool-sources"):
        assert client.get(url, headers=scoped).status_code == 403
    assert client.get("/v1/agents/mine", headers=h).status_code == 200


def test_workspaces_run_only_the_programs_the_operator_lists(world: dict[str, Any]) -> None:
    client, h = world["client"], world["acme"]
    for command in ("/bin/sh", "python3", f"{sys.executable} "):
        r = client.post("/v1/tool-sources", headers=h, json={
            "name": "shell", "kind": "mcp", "command": command, "args": ["-c", "true"]})
        assert r.status_code == 403, (command, r.text)
        assert "ZHIKU_MCP_STDIO_COMMANDS" in r.json()["error"]["message"]
    assert client.get("/v1/tool-sources/shell", headers=h).status_code == 404
    for url in ("http://169.254.169.254/mcp", "http://10.0.0.1/mcp", "http://[::1]:8000/mcp"):
        r = client.post("/v1/tool-sources", headers=h, json={
            "name": "inside", "kind": "mcp", "url": url})
        assert r.status_code == 400, (url, r.text)
    assert client.get("/v1/tool-sources/inside", headers=h).status_code == 404


def test_only_admins_register_tool_sources(world: dict[str, Any]) -> None:
    client, h = world["client"], world["acme"]
    writer = client.post("/v1/keys", headers=h, json={"name": "w", "access": "read_write"})
    wh = {"Authorization": f"Bearer {writer.json()['key']}"}
    r = client.post("/v1/tool-sources", headers=wh, json={
        "name": "evil", "kind": "mcp", "command": "/bin/sh", "args": ["-c", "true"]})
    assert r.status_code == 403
    assert client.get("/v1/tool-sources", headers=wh).status_code == 403
    assert client.get("/v1/agents", headers=wh).status_code == 200
    assert client.get("/v1/tool-sources/evil", headers=h).status_code == 404
