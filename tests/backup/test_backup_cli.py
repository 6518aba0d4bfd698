"""``zhiku backup`` and ``zhiku restore`` (SQLite: a second empty home is all a restore needs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from zhiku.cli.main import create_app


@pytest.mark.backend("sqlite")
def test_backup_and_restore_commands(zhiku_home: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# Leave\n\nFifteen days of annual leave.\n", encoding="utf-8")
    env = {"ZHIKU_EMBEDDER": "hashing", "ZHIKU_PARSE_WORKERS": "0"}
    assert runner.invoke(create_app(), ["kb", "create", "hb"], env=env).exit_code == 0
    assert runner.invoke(create_app(), ["ingest", str(docs), "--kb", "hb"], env=env).exit_code == 0
    result = runner.invoke(create_app(), ["backup", str(tmp_path / "b"), "--json"], env=env)
    assert result.exit_code == 0, result.output
    manifest = json.loads(result.output)
    assert manifest["backend"] == "sqlite" and manifest["counts"]["documents"] == 1
    assert {f["path"] for f in manifest["files"]} == {"zhiku.db"}
    result = runner.invoke(create_app(), ["restore", str(tmp_path / "b")], env=env)
    assert result.exit_code == 2 and "empty home" in result.output  # the source itself
    other = {**env, "ZHIKU_HOME": str(tmp_path / "other")}
    result = runner.invoke(create_app(), ["restore", str(tmp_path / "b")], env=other)
    assert result.exit_code == 0 and "1 documents" in result.output, result.output
    result = runner.invoke(create_app(), ["search", "annual leave", "--kb", "hb", "--json"],
                           env=other)
    assert result.exit_code == 0 and "Fifteen days" in result.output, result.output
