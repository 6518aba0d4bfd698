"""``zhiku models … --workspace``: a workspace made by ``zhiku admin init --workspace`` gets its
providers and default model from the CLI, the same rows HTTP shows; the key is prompted for,
stored encrypted and never printed; an unknown workspace is an error, not a new workspace."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from llm_scripted_server import Script, ScriptedServer
from typer.testing import CliRunner

from zhiku.cli.main import create_app
from zhiku.core.settings import Settings
from zhiku.runtime import Runtime

KEY = "sk-cli-0123456789abcdef-PASTED"
WS = "智库演示"


def _run(args: list[str], stdin: str | None = None) -> str:
    result = CliRunner().invoke(create_app(), args, input=stdin)
    assert result.exit_code == 0, result.output
    return result.output


def test_models_in_a_workspace_made_by_admin_init(
    zhiku_home: Path, monkeypatch: pytest.MonkeyPatch, scripted: ScriptedServer
) -> None:
    monkeypatch.setenv("ZHIKU_EMBEDDER", "hashing")
    _run(["admin", "init", "--email", "owner@demo.example", "--workspace", WS,
          "--password-stdin"], "a-long-owner-password-1\n")
    out = _run(["models", "add", "ds", "--preset", "deepseek", "--base-url", scripted.url,
                "--store-key", "--workspace", WS], f"{KEY}\n")
    assert "added provider ds" in out and KEY not in out
    listed = _run(["models", "list", "--workspace", WS])
    assert "stored …STED" in listed and KEY not in listed
    assert json.loads(_run(["models", "list", "--json"])) == []  # not in `default`
    scripted.push(Script(text="pong"))
    assert "ok  ds/deepseek-chat" in _run(["models", "test", "ds", "-w", WS])
    scripted.push(Script(status=401, body=json.dumps({"error": {"message": f"bad key {KEY}"}})))
    bad = CliRunner().invoke(create_app(), ["models", "test", "ds", "-w", WS])
    assert bad.exit_code == 1 and "HTTP 401" in bad.output and KEY not in bad.output
    updated = _run(["models", "update", "ds", "-m", "deepseek-chat", "-m", "deepseek-reasoner",
                    "--timeout", "30", "-w", WS])
    assert "updated provider ds" in updated
    assert "stored …STED" in _run(["models", "list", "-w", WS])  # the key stays
    assert "ds/deepseek-reasoner" in _run(["models", "default", "ds/deepseek-reasoner",
                                           "-w", WS])
    assert "ds/deepseek-reasoner" in _run(["models", "default", "-w", WS])

    # the same rows the HTTP API and the facade see; a new assistant takes the default
    with Runtime(Settings()) as rt:
        zk = rt.workspace(WS)
        assert [p.name for p in zk.providers.list()] == ["ds"]
        assert zk.llm.providers.api_key(zk.providers.get("ds")) == KEY
        zk.create_kb("hr")
    _run(["kb", "create", "hr"])  # in `default`, which has no default model
    _run(["apps", "create", "Bot", "--kb", "hr"])
    with Runtime(Settings()) as rt:
        assert rt.workspace("default").get_assistant("bot").draft.model is None
        made = rt.workspace(WS).create_assistant("HR", knowledge_bases=["hr"])
        assert made.draft.model == "ds/deepseek-reasoner"

    _run(["models", "remove", "ds", "-w", WS])
    assert "extractive (none)" in _run(["models", "default", "-w", WS])
    missing = CliRunner().invoke(create_app(), ["models", "list", "-w", "no-such-ws"])
    assert missing.exit_code == 2 and "workspace 'no-such-ws' does not exist" in missing.output
    with Runtime(Settings()) as rt:
        names = [r[0] for r in rt.db.conn.execute("SELECT name FROM workspaces").fetchall()]
    assert "no-such-ws" not in names


def test_the_settings_workspace_is_the_default(
    zhiku_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _run(["admin", "init", "--email", "owner@demo.example", "--workspace", "acme",
          "--password-stdin"], "a-long-owner-password-1\n")
    monkeypatch.setenv("ZHIKU_WORKSPACE", "acme")
    _run(["models", "add", "local", "--preset", "ollama"])
    with Runtime(Settings()) as rt:
        assert [p.name for p in rt.workspace("acme").providers.list()] == ["local"]
