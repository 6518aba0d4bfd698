"""``bootstrap``: the first owner of a workspace and their admin key, made once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from zhiku.accounts.bootstrap import bootstrap
from zhiku.accounts.principal import Level
from zhiku.accounts.store import AccountStore
from zhiku.core.errors import Conflict, InvalidInput, InvalidName
from zhiku.core.settings import Settings
from zhiku.runtime import Runtime

PASSWORD = "correct horse battery"
SRC = str(Path(__file__).resolve().parents[2] / "src")


def _counts(accounts: AccountStore) -> tuple[int, ...]:
    return tuple(
        int(accounts.db.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
        for table in ("workspaces", "users", "memberships", "api_keys")
    )


def test_bootstrap_makes_an_owner_with_an_admin_key(accounts: AccountStore) -> None:
    made = bootstrap(accounts.db, "Ada@Acme.example", PASSWORD, "研发部", cost=accounts.cost)
    assert accounts.workspace_name(made.workspace_id) == "研发部"
    assert accounts.member(made.workspace_id, made.user_id).role == "owner"
    assert accounts.member(made.workspace_id, made.user_id).name == "Ada"
    key = accounts.authenticate(made.key)
    assert (key.workspace_id, key.level, key.key_id) == (made.workspace_id, Level.ADMIN,
                                                          made.key_id)
    assert (key.kbs, key.assistants) == (None, None)
    stored = accounts.get_key(made.workspace_id, made.key_id)
    assert (stored.name, stored.created_by) == ("admin (zhiku admin init)", made.user_id)
    session = accounts.authenticate(accounts.login("ada@acme.example", PASSWORD, None, 1.0))
    assert (session.user_id, session.level) == (made.user_id, Level.OWNER)


def test_bootstrap_joins_an_existing_workspace(accounts: AccountStore) -> None:
    first = bootstrap(accounts.db, "ada@acme.example", PASSWORD, "acme", cost=accounts.cost)
    second = bootstrap(accounts.db, "bob@acme.example", PASSWORD, "acme", key_name="ops",
                       cost=accounts.cost)
    assert second.workspace_id == first.workspace_id
    assert {m.email for m in accounts.members(first.workspace_id)} == {
        "ada@acme.example", "bob@acme.example"}
    assert accounts.get_key(first.workspace_id, second.key_id).name == "ops"


def test_bootstrap_changes_nothing_when_it_refuses(accounts: AccountStore) -> None:
    bootstrap(accounts.db, "ada@acme.example", PASSWORD, "acme", cost=accounts.cost)
    before = _counts(accounts)
    with pytest.raises(Conflict, match="already exists"):
        bootstrap(accounts.db, "ADA@acme.example", PASSWORD, "globex", cost=accounts.cost)
    with pytest.raises(InvalidInput, match="password"):
        bootstrap(accounts.db, "bob@acme.example", "short", "globex", cost=accounts.cost)
    with pytest.raises(InvalidName, match="control characters"):
        bootstrap(accounts.db, "bob@acme.example", PASSWORD, "glo\nbex", cost=accounts.cost)
    with pytest.raises(InvalidName, match="1-128"):
        bootstrap(accounts.db, "bob@acme.example", PASSWORD, "g" * 200, cost=accounts.cost)
    assert _counts(accounts) == before


@pytest.mark.parametrize("bad", ["", " ", "x" * 129, "a\x00b", "a\u202eb", "a\u2028b"],
                         ids=repr)
def test_the_store_and_the_accounts_refuse_the_same_names(
    accounts: AccountStore, settings: Settings, bad: str
) -> None:
    with pytest.raises(InvalidName) as by_accounts:
        accounts.create_workspace(bad)
    runtime = Runtime(settings)
    store = runtime.store
    try:
        with pytest.raises(InvalidName) as by_store:
            store.workspace_id(bad, create=True)
        assert by_store.value.message == by_accounts.value.message
        made = store.workspace_id("x" * 128, create=True)
        assert accounts.workspace_id("x" * 128) == made
    finally:
        runtime.close()


def test_admin_init_and_the_accounts_core_stand_without_the_http_api() -> None:
    code = (
        "import sys, zhiku.cli.admin, zhiku.accounts.members, zhiku.accounts.keys, "
        "zhiku.accounts.joining, zhiku.accounts.signin, zhiku.accounts.workspaces; "
        "print(sorted(m for m in sys.modules if m.startswith(('zhiku.api', 'fastapi'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONPATH": SRC})
    assert out.stdout.strip() == "[]", out.stdout
