"""``zhiku apps``: list every kind, run any app (plain, JSON, streamed), publish, versions and
roll back; the assistant commands keep working."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner

from scripted_llm import Script
from zhiku.cli.main import create_app
from zhiku.service import Zhiku


def test_list_shows_every_kind(zk: Zhiku) -> None:
    zk.agents.update("helper", {"name": "Helper", "model": "scripted/scripted-model",
                                "instructions": "Be brief."})
    out = CliRunner().invoke(create_app(), ["apps", "list"])
    assert out.exit_code == 0, out.output
    lines = {line.split()[0]: line for line in out.stdout.splitlines()}
    assert "workflow" in lines["chatflow"] and "v1" in lines["chatflow"]
    assert "agent" in lines["helper"] and "(draft changed)" in lines["helper"]
    assert "assistant" in lines["helpdesk"] and "model extractive" in lines["helpdesk"]
    listed = json.loads(CliRunner().invoke(create_app(), ["apps", "list", "--json"]).stdout)
    assert {a["slug"]: a["kind"] for a in listed} == {
        "chatflow": "workflow", "form": "workflow", "helpdesk": "assistant", "helper": "agent"}


def test_run_every_kind(zk: Zhiku, scripted: Any) -> None:
    cli, app = CliRunner(), create_app()
    out = cli.invoke(app, ["apps", "run", "helpdesk", "-i",
                           "query=How many days of annual leave?"])
    assert out.exit_code == 0, out.output
    assert out.stdout.strip() and "[1]" in out.stderr and "assistant run" in out.stderr

    out = cli.invoke(app, ["apps", "run", "form", "-i", "name=Ada", "-i", "age=36", "--json"])
    assert out.exit_code == 0, out.output
    result = json.loads(out.stdout)
    assert result["outputs"] == {"who": "Ada", "age": 36} and result["kind"] == "workflow"

    scripted.push(Script(text="Streamed from the flow"))
    out = cli.invoke(app, ["apps", "run", "chatflow", "-i", "query=hi", "--stream"])
    assert out.exit_code == 0, out.output
    assert out.stdout.strip() == "Streamed from the flow"

    scripted.push(Script(text="Agent here"))
    out = cli.invoke(app, ["apps", "run", "helper", "-i", "query=hi", "--stream", "--json"])
    events = [json.loads(line) for line in out.stdout.splitlines()]
    assert events[0]["type"] == "started" and events[-1]["type"] == "done"
    assert events[-1]["output"] == "Agent here"

    scripted.push(Script(status=500))
    out = cli.invoke(app, ["apps", "run", "chatflow", "-i", "query=hi"])
    assert out.exit_code == 1 and "error:" in out.stderr
    out = cli.invoke(app, ["apps", "run", "form", "-i", "name=Ada"])
    assert out.exit_code != 0 and "'age' is required" in out.output


def test_publish_versions_and_rollback(zk: Zhiku) -> None:
    cli, app = CliRunner(), create_app()
    out = cli.invoke(app, ["apps", "publish", "chatflow", "--note", "again"])
    assert out.exit_code == 0 and "published chatflow v2" in out.stdout
    out = cli.invoke(app, ["apps", "rollback", "chatflow", "1"])
    assert out.exit_code == 0 and "v1 is live" in out.stdout
    out = cli.invoke(app, ["apps", "versions", "chatflow"])
    assert out.stdout.splitlines()[1].startswith("* v1")
    assert zk.apps.get("chatflow").live_version == 1
    out = cli.invoke(app, ["apps", "rollback", "chatflow", "5"])
    assert out.exit_code != 0 and "no version 5" in out.output
    # assistants are still published by name too
    out = cli.invoke(app, ["apps", "publish", "Helpdesk"])
    assert out.exit_code == 0 and "v2" in out.stdout


def test_runs_and_usage(zk: Zhiku, scripted: Any) -> None:
    cli, app = CliRunner(), create_app()
    scripted.push(Script(text="one", usage=(10, 2)))
    zk.apps.run("chatflow", {"query": "first question"})
    out = cli.invoke(app, ["apps", "runs", "chatflow"])
    assert out.exit_code == 0 and "first question" in out.stdout and "succeeded" in out.stdout
    (run,) = json.loads(cli.invoke(app, ["apps", "runs", "chatflow", "--json"]).stdout)
    assert run["output"] == "one"
    out = cli.invoke(app, ["apps", "usage", "chatflow", "--json"])
    (row,) = json.loads(out.stdout)
    assert (row["app"], row["requests"], row["input_tokens"]) == ("chatflow", 1, 10)
    out = cli.invoke(app, ["apps", "usage", "--bucket", "day"])
    assert out.exit_code == 0 and "chatflow" in out.stdout and "1 requests" in out.stdout
    assert cli.invoke(app, ["apps", "usage", "--bucket", "week"]).exit_code != 0
