"""Provable releases of a workflow on the command line: ``apps bind-evals``, a refused
``apps publish`` naming the metric, ``--force --reason`` on the record, ``eval gate`` exit codes
(0 unchanged, 1 after a knowledge base change)."""

from __future__ import annotations

import json

from typer.testing import CliRunner, Result

from releasedata import break_kb, flow, seed
from zhiku.cli.main import create_app
from zhiku.core.settings import Settings
from zhiku.service import Zhiku


def zhiku(*args: str) -> Result:
    return CliRunner().invoke(create_app(), list(args))


def test_workflow_release_commands() -> None:
    with Zhiku(Settings()) as zk:
        seed(zk)
        zk.workflows.create("HR flow", flow(), slug="hr-flow")
    assert zhiku("apps", "publish", "hr-flow").exit_code == 0
    bound = zhiku("apps", "bind-evals", "hr-flow", "hr")
    assert bound.exit_code == 0 and "checked on 'hr'" in bound.output
    gate = zhiku("eval", "gate", "hr-flow")
    assert gate.exit_code == 0, gate.output

    with Zhiku(Settings()) as zk:
        zk.workflows.update("hr-flow", flow(top_k=1, min_relevance=0.99))
    refused = zhiku("apps", "publish", "hr-flow")
    assert refused.exit_code == 2, refused.output
    assert "draft is worse than v1 on 'hr'" in refused.output and "f1: " in refused.output
    also_refused = zhiku("workflows", "publish", "hr-flow")
    assert also_refused.exit_code == 2 and "f1: " in also_refused.output
    forced = zhiku("apps", "publish", "hr-flow", "--force", "--reason", "a stricter draft")
    assert forced.exit_code == 0 and "published hr-flow v2" in forced.output
    listed = json.loads(zhiku("apps", "versions", "hr-flow", "--json").output)
    assert listed[0]["release"]["force_reason"] == "a stricter draft"
    assert listed[0]["release"]["forced_by"].startswith("cli:")
    assert zhiku("apps", "rollback", "hr-flow").exit_code == 0

    with Zhiku(Settings()) as zk:
        break_kb(zk)
    failed = zhiku("eval", "gate", "hr-flow")
    assert failed.exit_code == 1, failed.output
    assert "! ndcg@10" in failed.output and "v1 now is worse than v1 stored" in failed.output
