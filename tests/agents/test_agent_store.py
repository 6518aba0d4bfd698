"""Stored agents and tool sources (on whichever backend the suite runs), the HTTP GET tool's
allow-list, and ``zhiku agents`` on the command line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread
from typing import Any

import pytest
from typer.testing import CliRunner

from scripted_llm import Script
from zhiku.agents.config import AgentConfig
from zhiku.cli.main import create_app
from zhiku.core.errors import Conflict, InvalidInput, NotFound
from zhiku.service import Zhiku
from zhiku.tools.sources import ToolSource


def test_agents_are_stored_and_checked(hr: Zhiku, model: str) -> None:
    created = hr.agents.create({"name": "HR Helper", "model": model, "tools": ["calculator"],
                                "knowledge_bases": ["hr"], "step_limit": 4})
    assert created.slug == "hr-helper" and created.draft.step_limit == 4
    assert created.published is None and created.live == created.draft
    assert [a.slug for a in hr.agents.list()] == ["hr-helper"]
    with pytest.raises(Conflict):
        hr.agents.create({"name": "HR Helper", "model": model})
    updated = hr.agents.update("hr-helper", created.draft.model_copy(update={"step_limit": 6}))
    assert updated.draft.step_limit == 6 and hr.agents.get("HR Helper").id == created.id
    with pytest.raises(InvalidInput, match="unknown tools: nope"):
        hr.agents.create({"name": "x", "model": model, "tools": ["nope"]})
    with pytest.raises(InvalidInput, match="unknown knowledge bases: none"):
        hr.agents.create({"name": "x", "model": model, "knowledge_bases": ["none"]})
    with pytest.raises(InvalidInput, match="bad agent settings"):
        hr.agents.create({"name": "x", "model": model, "surprise": 1})
    with pytest.raises(ValueError, match="not a tool name"):
        AgentConfig(model=model, tools=["has space"])
    hr.agents.delete("hr-helper")
    with pytest.raises(NotFound):
        hr.agents.get("hr-helper")


def test_a_stored_agent_runs_by_slug(zk: Zhiku, scripted: Any, model: str) -> None:
    zk.agents.create({"name": "calc", "model": model, "tools": ["calculator"],
                      "instructions": "Use the calculator."})
    scripted.push(Script(text="", tool_calls=[("calculator", '{"expression": "6*7"}')]),
                  Script(text="42"))
    result = zk.agents.run("calc", "6*7?")
    assert result.answer == "42"
    assert scripted.chat_requests[0]["messages"][0]["content"].startswith("Use the calculator.")


def test_versions_publish_and_roll_back(zk: Zhiku, scripted: Any, model: str) -> None:
    zk.agents.create({"name": "calc", "model": model, "instructions": "one"})
    assert zk.agents.publish("calc", note="first") == 1
    zk.agents.update("calc", {"name": "calc", "model": model, "instructions": "two"})
    scripted.default = lambda req: Script(text="ok")

    def system(**which: Any) -> str:
        zk.agents.run("calc", "hi", **which)
        return str(scripted.chat_requests[-1]["messages"][0]["content"])

    assert system().startswith("one") and system(draft=True).startswith("two")
    assert zk.agents.publish("calc") == 2 and system().startswith("two")
    zk.agents.rollback("calc", 1)
    assert system().startswith("one") and system(version=2).startswith("two")
    assert [(v["version"], v["live"], v["note"]) for v in zk.agents.versions("calc")] == \
        [(2, False, None), (1, True, "first")]
    with pytest.raises(NotFound, match="no version 7"):
        zk.agents.rollback("calc", 7)
    with pytest.raises(InvalidInput, match="not both"):
        zk.agents.run("calc", "hi", version=1, draft=True)
    with pytest.raises(InvalidInput, match="stored agents"):
        zk.agents.run({"model": model}, "hi", version=1)


def test_tool_sources_keep_secrets_sealed(zk: Zhiku) -> None:
    store = zk.agents.sources
    store.add(ToolSource("svc", "mcp", {"transport": "http", "url": "http://127.0.0.1:9/mcp"},
                         {"Authorization": "Bearer top-secret-value-123"}))
    again = store.get("svc")
    assert again.secrets == {"Authorization": "Bearer top-secret-value-123"}
    assert "top-secret" not in json.dumps(again.to_dict()) and "top-secret" not in repr(again)
    db = zk.store.db  # type: ignore[attr-defined]
    raw = db.conn.execute("SELECT config, secrets_encrypted FROM tool_sources").fetchone()
    assert b"top-secret" not in bytes(raw[1]) and "top-secret" not in raw[0]
    with pytest.raises(Conflict):
        store.add(ToolSource("svc", "mcp", {}, {}))
    store.add(ToolSource("svc", "mcp", {"transport": "http", "url": "http://127.0.0.1:9/x"}),
              replace=True)
    assert store.get("svc").secrets == {} and [s.name for s in store.list("mcp")] == ["svc"]
    store.delete("svc")
    assert store.list() == []
    with pytest.raises(InvalidInput, match="command or a URL"):
        zk.agents.add_mcp_server("both", command="x", url="http://127.0.0.1:1/mcp")
    with pytest.raises(InvalidInput, match="bad MCP server settings"):
        zk.agents.add_mcp_server("ftp", url="ftp://127.0.0.1/mcp")


class Page:
    """A 127.0.0.1 page and a redirect off it."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                if self.path == "/away":
                    self.send_response(302)
                    self.send_header("location", "http://example.com/")
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                body = b"<p>opening hours: 9-17</p>"
                self.send_response(200)
                self.send_header("content-type", "text/html")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.host = f"127.0.0.1:{self._httpd.server_address[1]}"
        Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def page() -> Iterator[Page]:
    server = Page()
    yield server
    server.stop()


def test_http_get_reaches_allowed_hosts_only(zk: Zhiku, scripted: Any, model: str,
                                             page: Page) -> None:
    scripted.push(Script(text="", tool_calls=[
        ("http_get", json.dumps({"url": f"http://{page.host}/hours"})),
        ("http_get", '{"url": "http://localhost:1/"}'),
        ("http_get", json.dumps({"url": f"http://{page.host}/away"}))]),
        Script(text="9-17"))
    result = zk.agents.run({"model": model, "http_hosts": [page.host]}, "hours?")
    ok, other, away = result.tool_calls
    assert ok.ok and "opening hours" in ok.result["text"]
    assert not other.ok and "not an allowed host" in other.result
    assert not away.ok and "redirects" in away.result
    assert scripted.chat_requests[0]["tools"][0]["function"]["name"] == "http_get"


def test_http_get_still_goes_through_the_ssrf_guard(zhiku_home: Path, scripted: Any,
                                                    page: Page) -> None:
    from zhiku.core.settings import Settings

    with Zhiku(Settings(home=zhiku_home, embedder="hashing")) as plain:
        plain.add_provider("scripted", base_url=scripted.url, models=["m"], max_retries=0)
        scripted.push(Script(text="", tool_calls=[
            ("http_get", json.dumps({"url": f"http://{page.host}/"}))]), Script(text="no"))
        result = plain.agents.run({"model": "scripted/m", "http_hosts": [page.host]}, "x")
    assert "internal address" in result.tool_calls[0].result


def test_cli(tmp_path: Path, zk: Zhiku, scripted: Any, model: str) -> None:
    runner = CliRunner()
    app = create_app()
    config = tmp_path / "calc.yaml"
    config.write_text(f"name: calc\nmodel: {model}\ntools: [calculator]\n", encoding="utf-8")
    result = runner.invoke(app, ["agents", "create", str(config)])
    assert result.exit_code == 0, result.output
    assert "created agent calc" in result.output
    scripted.push(Script(text="", tool_calls=[("calculator", '{"expression": "2**10"}')]),
                  Script(text="1024"))
    result = runner.invoke(app, ["agents", "run", "calc", "2^10?"])
    assert result.exit_code == 0, result.output
    assert "1024" in result.stdout and "answered after 2 steps" in result.output
    scripted.default = lambda req: Script(text="", tool_calls=[("calculator",
                                                                '{"expression": "1"}')])
    limited = tmp_path / "limited.json"
    limited.write_text(json.dumps({"model": model, "tools": ["calculator"], "step_limit": 2}))
    result = runner.invoke(app, ["agents", "run", str(limited), "loop", "--json"])
    assert result.exit_code == 1
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert events[-1]["type"] == "stop" and events[-1]["reason"] == "step_limit"
    result = runner.invoke(app, ["agents", "mcp-add", "svc", "--url", "http://127.0.0.1:9/mcp",
                                 "--header", "Authorization=Bearer cli-secret-987654"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["agents", "sources", "--json"])
    assert json.loads(result.stdout)[0]["secret_names"] == ["Authorization"]
    assert "cli-secret" not in result.stdout
    result = runner.invoke(app, ["agents", "list", "--json"])
    assert [a["slug"] for a in json.loads(result.stdout)] == ["calc"]
    result = runner.invoke(app, ["agents", "publish", "calc", "--note", "ok"])
    assert result.exit_code == 0 and "published calc v1" in result.output
    result = runner.invoke(app, ["agents", "versions", "calc"])
    assert "v1 (live)" in result.output
    result = runner.invoke(app, ["agents", "rollback", "calc", "3"])
    assert result.exit_code == 2 and "no version 3" in result.output
    result = runner.invoke(app, ["agents", "run", "nope", "hi"])
    assert result.exit_code == 2 and "agent 'nope' does not exist" in result.output
