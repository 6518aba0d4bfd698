"""``zhiku sources``: add a folder source with --set and a secret-free config, sync it here or in
the background, read its runs, remove it with its documents; bad input exits 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cli_support import last_json

from zhiku.core.settings import Settings
from zhiku.service import Zhiku


@pytest.fixture(autouse=True)
def _hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The hashing embedder and parsing in-process: quick and offline."""
    monkeypatch.setenv("ZHIKU_EMBEDDER", "hashing")
    monkeypatch.setenv("ZHIKU_PARSE_WORKERS", "0")


def test_sources_round_trip(cli: Any, tmp_path: Path, zhiku_home: Path) -> None:
    share = tmp_path / "share"
    share.mkdir()
    (share / "leave.md").write_text("# Leave\n\nFifteen days of paid leave.\n")
    (share / "skip.txt").write_text("not taken\n")
    cli("kb", "create", "hr")
    added = last_json(cli("sources", "add", "handbook", "--kind", "folder", "--kb", "hr",
                          "--set", f"path={share}", "--set", 'include=["*.md"]',
                          "--schedule", "0 3 * * *", "--json"))
    assert added["config"]["include"] == ["*.md"] and added["next_run_at"].endswith("03:00:00.000Z")
    assert "secret" not in json.dumps(added).replace("secret_names", "")

    out = cli("sources", "sync", "handbook").output
    assert "1 added" in out and "0 failed" in out
    listed = last_json(cli("sources", "list", "--json"))
    assert listed[0]["name"] == "handbook" and listed[0]["last_run"]["status"] == "done"
    assert "handbook" in cli("sources", "list").output
    shown = cli("sources", "show", "handbook", "--kb", "hr").output
    assert "0 3 * * *" in shown and "run 1: done" in shown

    (share / "leave.md").write_text("# Leave\n\nTwenty days of paid leave.\n")
    queued = last_json(cli("sources", "sync", "handbook", "--background", "--json"))
    assert queued["status"] == "queued"
    assert "already being synced" in cli("sources", "sync", "handbook", code=2).output
    cli("jobs", "cancel", str(queued["job_id"]))
    assert "1 updated" in cli("sources", "sync", str(added["id"])).output

    runs = last_json(cli("sources", "runs", "handbook", "--json"))
    assert [r["status"] for r in runs] == ["done", "failed", "done"]
    assert "unchanged" in cli("sources", "runs", "handbook").output

    changed = cli("sources", "update", "handbook", "--schedule", "none", "--disable",
                  "--max-delete-share", "0.2").output
    assert "schedule: none" in changed and "disabled" in changed and "20%" in changed

    cli("sources", "remove", "handbook", "--kb", "hr")
    with Zhiku(Settings(home=zhiku_home)) as zk:
        assert zk.documents("hr") == [] and zk.sources.list() == []


def test_bad_input_exits_2(cli: Any, tmp_path: Path) -> None:
    cli("kb", "create", "hr")
    assert "unknown source kind" in cli("sources", "add", "x", "--kind", "gopher", "--kb", "hr",
                                        code=2).output
    assert "does not exist" in cli("sources", "sync", "nothing", code=2).output
    out = cli("sources", "add", "x", "--kind", "folder", "--kb", "hr", "--set",
              f"path={tmp_path}", "--secret", "token", input="hunter2\n", code=2).output
    assert "no secret token" in out and "hunter2" not in out
    assert "JSON" in cli("sources", "add", "x", "--kind", "folder", "--kb", "hr",
                         "--config", "{nope", code=2).output
