"""The CLI: ``zhiku groups``, ``ingest --groups``, and search/ask reading as the operator
(everything) unless ``--as-user`` or ``--group`` takes someone's view."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from zhiku.accounts.store import AccountStore
from zhiku.cli.main import create_app
from zhiku.core.settings import Settings
from zhiku.store.db import open_database


@pytest.fixture
def cli(zhiku_home: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("NO_COLOR", "1")
    runner, app = CliRunner(), create_app()

    def invoke(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, list(args))
        assert result.exit_code == code, (args, result.output)
        return str(result.output)

    return invoke


def _sources(output: str) -> set[str]:
    return {Path(h["source"]).name for h in json.loads(output)["hits"]}


def test_groups_ingest_and_whose_view(cli: Any, tmp_path: Path) -> None:
    (tmp_path / "secret.md").write_text("# Bonus\n\nThe bonus pool code is BX5520.\n")
    (tmp_path / "public.md").write_text("# Leave\n\nThe bonus pool rules come in spring.\n")
    cli("kb", "create", "kb", "--embedder", "hashing")
    assert "created" in cli("groups", "create", "hr")
    cli("groups", "create", "sales")
    cli("ingest", str(tmp_path / "secret.md"), "--kb", "kb", "--groups", "hr")
    cli("ingest", str(tmp_path / "public.md"), "--kb", "kb")
    db = open_database(Settings())
    try:
        accounts = AccountStore(db)
        ws = db.conn.execute("SELECT id FROM workspaces WHERE name = 'default'").fetchone()[0]
        for email, role in (("ann@corp.example", "viewer"), ("bob@corp.example", "viewer"),
                            ("root@corp.example", "admin")):
            accounts.set_role(accounts.create_user(email, "long-enough-password"), ws, role)
    finally:
        db.close()
    cli("groups", "add", "hr", "--user", "ann@corp.example")
    listed = json.loads(cli("groups", "list", "--json"))
    assert [(g["name"], len(g["users"])) for g in listed] == [("hr", 1), ("sales", 0)]

    query = ("search", "bonus pool code", "--kb", "kb", "--json", "-k", "5")
    assert _sources(cli(*query)) == {"secret.md", "public.md"}  # the operator reads all
    assert "secret.md" in _sources(cli(*query, "--group", "hr"))
    assert _sources(cli(*query, "--group", "sales")) == {"public.md"}
    assert "secret.md" in _sources(cli(*query, "--as-user", "ann@corp.example"))
    assert _sources(cli(*query, "--as-user", "bob@corp.example")) == {"public.md"}
    assert "secret.md" in _sources(cli(*query, "--as-user", "root@corp.example"))
    cli(*query, "--as-user", "nobody@corp.example", code=2)
    answer = cli("ask", "What is the bonus pool code?", "--kb", "kb", "--json",
                 "--group", "sales")
    assert "BX5520" not in answer

    cli("groups", "restrict", "--kb", "kb", "--doc", str(tmp_path / "secret.md"),
        "--groups", "-")
    assert "secret.md" in _sources(cli(*query, "--group", "sales"))
    cli("groups", "remove", "hr", "--user", "ann@corp.example")
    cli("groups", "rename", "hr", "people")
    assert "deleted" in cli("groups", "delete", "people")
