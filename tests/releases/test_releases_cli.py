"""Provable releases on the command line: bind-evals, a refused publish naming the metric,
--force --reason on the record in ``apps versions``, ``apps scorecard``, ``eval gate`` exit codes
(0 unchanged, 1 after a knowledge base change), rollback."""

from __future__ import annotations

import json

from typer.testing import CliRunner, Result

from releasedata import break_kb, seed
from zhiku.cli.main import create_app
from zhiku.core.settings import Settings
from zhiku.service import Zhiku


def zhiku(*args: str) -> Result:
    return CliRunner().invoke(create_app(), list(args))


def test_release_commands() -> None:
    with Zhiku(Settings()) as zk:
        seed(zk)
    bound = zhiku("apps", "bind-evals", "hr-bot", "hr")
    assert bound.exit_code == 0 and "checked on 'hr'" in bound.output
    assert zhiku("apps", "update", "hr-bot", "--threshold", "0.99").exit_code == 0

    refused = zhiku("apps", "publish", "hr-bot")
    assert refused.exit_code == 2, refused.output  # 409: the draft is worse
    assert "refusal: 1.0000 → 0.0000" in refused.output
    assert "paired-bootstrap interval [-1.0000, -1.0000], n=8" in refused.output

    card = zhiku("apps", "scorecard", "hr-bot")
    assert card.exit_code == 0, card.output
    assert "draft (run 1, stored) against v1 (run 2, stored)" in card.output
    assert "! refusal" in card.output and "worse:" in card.output
    data = json.loads(zhiku("apps", "scorecard", "hr-bot", "--json").output)
    assert data["passed"] is False and data["candidate"]["reused"] is True
    assert {d["metric"] for d in data["regressions"]} >= {"refusal", "f1"}

    no_reason = zhiku("apps", "publish", "hr-bot", "--force")
    assert no_reason.exit_code == 2 and "needs a reason" in no_reason.output
    forced = zhiku("apps", "publish", "hr-bot", "--force", "--reason", "stricter on purpose")
    assert forced.exit_code == 0 and "published hr-bot v2" in forced.output
    versions = zhiku("apps", "versions", "hr-bot")
    assert "v2  live" in versions.output
    assert "forced by cli:" in versions.output and "stricter on purpose" in versions.output
    listed = json.loads(zhiku("apps", "versions", "hr-bot", "--json").output)
    assert listed[0]["release"]["force_reason"] == "stricter on purpose"

    rolled = zhiku("apps", "rollback", "hr-bot")
    assert rolled.exit_code == 0 and "v1 is live" in rolled.output
    gate = zhiku("eval", "gate", "hr-bot")
    assert gate.exit_code == 0, gate.output
    # v1 was published before binding: its stored run from the scorecard is the baseline
    assert "v1 now (run 3) against v1 stored (run 2, stored)" in gate.output
    again = zhiku("eval", "gate", "hr-bot", "--json")
    assert again.exit_code == 0 and json.loads(again.output)["passed"] is True

    with Zhiku(Settings()) as zk:
        break_kb(zk)
    failed = zhiku("eval", "gate", "hr-bot")
    assert failed.exit_code == 1, failed.output
    assert "! ndcg@10" in failed.output and "v1 now is worse than v1 stored" in failed.output

    assert zhiku("apps", "unbind-evals", "hr-bot").exit_code == 0
    unbound = zhiku("eval", "gate", "hr-bot")
    assert unbound.exit_code == 2 and "not bound" in unbound.output
