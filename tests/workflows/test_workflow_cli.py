"""``zhiku workflows``: create from a file, validate with named errors, run with streamed
events, list and show runs, replay."""

from __future__ import annotations

import json
from pathlib import Path

from test_workflow_store import GREETING
from typer.testing import CliRunner

from zhiku.cli.main import create_app
from zhiku.service import Zhiku


def test_cli(tmp_path: Path, zk: Zhiku) -> None:
    runner = CliRunner()
    app = create_app()
    good = tmp_path / "greeting.yaml"
    good.write_text(zk.workflows.parse(GREETING).to_yaml(), encoding="utf-8")
    bad = tmp_path / "bad.json"
    broken = json.loads(json.dumps(GREETING))
    broken["nodes"][1]["template"] = "{{ start.nope }}"
    bad.write_text(json.dumps(broken), encoding="utf-8")

    result = runner.invoke(app, ["workflows", "validate", str(good)])
    assert result.exit_code == 0 and "valid" in result.output
    result = runner.invoke(app, ["workflows", "validate", str(bad), "--json"])
    assert result.exit_code == 2
    assert json.loads(result.stdout)[0] == {
        "node": "hello", "field": "template",
        "message": "'start' has no output 'nope'; it has ['error', 'name', 'times']"}
    result = runner.invoke(app, ["workflows", "create", str(bad)])
    assert result.exit_code == 2 and "hello.template" in result.output

    result = runner.invoke(app, ["workflows", "create", str(good), "--publish"])
    assert result.exit_code == 0, result.output
    assert "created workflow greeting (published v1)" in result.output
    result = runner.invoke(app, ["workflows", "run", "greeting", "-i", "name=Dee",
                                 "-i", "times=2"])
    assert result.exit_code == 0, result.output
    assert "✓ hello" in result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == \
        {"text": "Hello Dee! Hello Dee!"}
    result = runner.invoke(app, ["workflows", "run", "greeting", "--inputs", '{"name": "E"}',
                                 "--json"])
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines[0]["type"] == "run_started" and lines[-1]["status"] == "succeeded"
    assert lines[3] == {"type": "node_started", "node_id": "hello", "node_type": "template"}
    run_id = lines[-1]["run_id"]
    result = runner.invoke(app, ["workflows", "runs", "list", "greeting", "--json"])
    assert json.loads(result.stdout)[0]["id"] == run_id
    result = runner.invoke(app, ["workflows", "runs", "show", str(run_id)])
    assert json.loads(result.stdout)["nodes"][1]["outputs"] == {"text": "Hello E! "}
    result = runner.invoke(app, ["workflows", "replay", str(run_id), "--json"])
    assert result.exit_code == 0
    last = json.loads(result.stdout.splitlines()[-1])
    assert last["type"] == "run_finished" and last["outputs"] == {"text": "Hello E!"}
    result = runner.invoke(app, ["workflows", "show", "greeting", "--yaml"])
    assert "type: template" in result.stdout
    result = runner.invoke(app, ["workflows", "run", "greeting", "-i", "nobody=1"])
    assert result.exit_code == 2 and "unknown inputs" in result.output
    result = runner.invoke(app, ["workflows", "list"])
    assert "greeting  greeting  v1  3 nodes" in result.output
    result = runner.invoke(app, ["workflows", "delete", "greeting", "--yes"])
    assert result.exit_code == 0
    assert runner.invoke(app, ["workflows", "list", "--json"]).stdout.strip() == "[]"
