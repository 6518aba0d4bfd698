"""The audit log in the core: append-only on both backends (triggers refuse UPDATE, DELETE and,
on PostgreSQL, TRUNCATE), secrets kept out of the detail, the actor from the open context
(``system`` without one, the OS user in the CLI), and providers recorded by the facade."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from zhiku.audit.context import Actor, acting, current
from zhiku.audit.log import Query, utc_bound
from zhiku.audit.recorder import REDACTED, redact
from zhiku.cli.main import create_app
from zhiku.core.errors import InvalidInput, NotFound
from zhiku.service import Zhiku


def _actions(zk: Zhiku, **query: Any) -> list[str]:
    return [e.action for e in zk.audit_export(Query(**query))]


def test_the_table_refuses_updates_and_deletes(zk: Zhiku) -> None:
    entry_id = zk.audit("kb.create", "kb", 1, "hr")
    statements = ["UPDATE audit_log SET action = 'kb.read'",
                  f"DELETE FROM audit_log WHERE id = {entry_id}", "DELETE FROM audit_log"]
    if zk.db.dialect == "postgres":
        statements.append("TRUNCATE audit_log")
    for sql in statements:
        with pytest.raises(Exception, match="append-only"), zk.db.write() as conn:
            conn.execute(sql)
    assert [(e.id, e.action) for e in zk.audit_export()] == [(entry_id, "kb.create")]


def test_secrets_never_reach_the_detail(zk: Zhiku) -> None:
    detail = {"password": "hunter2", "nested": {"api_key": "sk-1", "Authorization": "Bearer x"},
              "items": [{"token": "t"}], "role": "viewer"}
    assert redact(detail) == {"password": REDACTED, "nested": {"api_key": REDACTED,
                              "Authorization": REDACTED}, "items": [{"token": REDACTED}],
                              "role": "viewer"}
    zk.audit("member.role", "user", 7, "a@b.example", detail=detail)
    stored = json.dumps([e.as_dict() for e in zk.audit_export()])
    assert "hunter2" not in stored and "sk-1" not in stored and "viewer" in stored


def test_the_actor_comes_from_the_open_context(zk: Zhiku) -> None:
    zk.create_kb("plain")
    with acting(Actor.cli(), "10.0.0.9"):
        zk.create_kb("from-cli")
        with acting(Actor("user", "42", "ops@example.org")):
            zk.delete_kb("plain")
        assert current().actor == Actor.cli()
    assert current().actor is None
    entries = {e.target_name: e for e in zk.audit_export(Query(action="kb.create"))}
    assert entries["plain"].actor_kind == "system" and entries["plain"].address is None
    cli = entries["from-cli"]
    assert cli.actor_kind == "cli" and cli.actor_name.endswith("(cli)")
    assert cli.address == "10.0.0.9"
    deleted = [e for e in zk.audit_export(Query(action="kb.delete"))]
    assert [(e.actor_name, e.address) for e in deleted] == [("ops@example.org", None)]


def test_providers_are_recorded_without_their_key(zk: Zhiku) -> None:
    zk.add_provider("llm", base_url="http://user:pw@127.0.0.1:9/v1", models=["m"],
                    api_key="sk-very-secret")
    zk.add_provider("llm", base_url="http://127.0.0.1:9/v1", models=["m", "n"], replace=True)
    zk.remove_provider("llm")
    assert _actions(zk, action="provider") == ["provider.add", "provider.update",
                                               "provider.remove"]
    stored = json.dumps([e.as_dict() for e in zk.audit_export()])
    assert "sk-very-secret" not in stored and ":pw@" not in stored
    first = next(zk.audit_export(Query(action="provider.add")))
    assert first.detail["key_set"] is True and first.target_name == "llm"


def test_query_bounds_and_families(zk: Zhiku) -> None:
    assert utc_bound("2026-12-04") == "2026-12-04T00:00:00.000Z"
    assert utc_bound("2026-12-04T08:00:00+08:00") == "2026-12-04T00:00:00.000Z"
    assert utc_bound("2026-12-04 01:02:03") == "2026-12-04T01:02:03.000Z"
    with pytest.raises(InvalidInput):
        utc_bound("soon")
    for action in ("kb.create", "kb_x.create", "kbx.delete", "key.create"):
        zk.audit(action)
    assert _actions(zk, action="kb") == ["kb.create"]  # '_' is not a wildcard
    assert _actions(zk, action="kb.*") == ["kb.create"]
    assert _actions(zk, action="key.create") == ["key.create"]
    page = zk.audit_entries(limit=2)
    assert [e.action for e in page.entries] == ["key.create", "kbx.delete"]
    older = zk.audit_entries(cursor=page.next_cursor, limit=2)
    assert [e.action for e in older.entries] == ["kb_x.create", "kb.create"]
    assert older.next_cursor is None
    with pytest.raises(InvalidInput):
        zk.audit_entries(cursor="abc")


def test_the_cli_records_its_user_and_lists_and_exports(zk: Zhiku) -> None:
    runner = CliRunner()
    result = runner.invoke(create_app(), ["kb", "create", "handbook"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(create_app(), ["audit", "list", "--json", "--action", "kb"])
    assert result.exit_code == 0, result.output
    [entry] = json.loads(result.output)
    assert entry["action"] == "kb.create" and entry["actor_kind"] == "cli"
    assert entry["target_name"] == "handbook"
    result = runner.invoke(create_app(), ["audit", "export", "--action", "kb.create"])
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [e["target_name"] for e in lines] == ["handbook"]
    result = runner.invoke(create_app(), ["audit", "list", "--workspace", "nowhere"])
    assert result.exit_code == 2 and "does not exist" in result.output
    with pytest.raises(NotFound):
        zk.runtime.store.workspace_id("nowhere")


def test_the_os_user_names_cli_actors_and_forced_cli_publishes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from zhiku.cli import releases

    monkeypatch.setattr("getpass.getuser", lambda: "ops")
    assert Actor.cli() == Actor("cli", "ops", "ops (cli)") and releases.actor() == "cli:ops"

    def nameless() -> str:
        raise KeyError("uid 1234 has no name")

    monkeypatch.setattr("getpass.getuser", nameless)
    assert Actor.cli() == Actor("cli", "unknown", "unknown (cli)") and releases.actor() == "cli"
