"""``zhiku models``, ``zhiku apps``, ``zhiku ask --app`` and ``zhiku chat`` through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from llm_scripted_server import Script, ScriptedServer
from llm_support import DOCS
from typer.testing import CliRunner

from zhiku.cli.main import create_app


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scripted: ScriptedServer) -> CliRunner:
    monkeypatch.setenv("ZHIKU_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ZHIKU_EMBEDDER", "hashing")
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in DOCS.items():
        (docs / name).write_text(text, encoding="utf-8")
    runner = CliRunner()
    for args in (["kb", "create", "hr"], ["ingest", "--kb", "hr", str(docs)],
                 ["models", "add", "scripted", "--base-url", scripted.url, "-m", "scripted-model",
                  "--price-in", "1", "--price-out", "2"],
                 ["apps", "create", "HR Bot", "--kb", "hr", "-m", "scripted/scripted-model",
                  "--publish"]):
        result = runner.invoke(create_app(), args)
        assert result.exit_code == 0, result.output
    return runner


def test_models_list_and_test(cli: CliRunner, scripted: ScriptedServer) -> None:
    out = cli.invoke(create_app(), ["models", "list", "--json"])
    assert json.loads(out.stdout)[0]["name"] == "scripted"
    scripted.push(Script(text="pong"))
    ok = cli.invoke(create_app(), ["models", "test", "scripted"])
    assert ok.exit_code == 0 and "ok  scripted/scripted-model" in ok.stdout and " ms " in ok.stdout
    scripted.push(Script(status=401), Script(status=401))
    bad = cli.invoke(create_app(), ["models", "test", "scripted", "--json"])
    assert bad.exit_code == 1 and json.loads(bad.stdout)["kind"] == "provider_auth"
    presets = cli.invoke(create_app(), ["models", "presets"])
    assert "dashscope" in presets.stdout and "volces" in presets.stdout


def test_ask_with_an_app(cli: CliRunner, scripted: ScriptedServer) -> None:
    scripted.push(Script(text="New employees get 10 days [1]."))
    out = cli.invoke(create_app(), ["ask", "--app", "hr-bot", "--json",
                                    "How many days of leave do new employees get?"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["refused"] is False and data["citations"][0]["source"].endswith("leave.md")
    assert data["citations"][0]["chunk_id"] and data["flagged"] is False
    listed = cli.invoke(create_app(), ["apps", "list"])
    assert "hr-bot" in listed.stdout and "v1" in listed.stdout


def test_interactive_chat_streams_and_keeps_the_conversation(
    cli: CliRunner, scripted: ScriptedServer
) -> None:
    scripted.push(Script(text="New employees get 10 days [1]."),
                  Script(text="How many leave days do managers get?"),
                  Script(text="Managers get 15 days [1]."))
    out = cli.invoke(create_app(), ["chat", "--app", "hr-bot"],
                     input="How many days of leave do new employees get?\nAnd managers?\n\n")
    assert out.exit_code == 0, out.output
    assert "New employees get 10 days [1]." in out.stdout
    assert "Managers get 15 days [1]." in out.stdout
    assert "leave.md" in out.stdout and "conversation 1" in out.stdout
    assert len(scripted.chat_requests) == 3  # answer, rewrite, answer
