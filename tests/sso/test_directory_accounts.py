"""Directory accounts on a real database, whatever directory sent them: linking by subject then
e-mail, roles following groups at every sign-in, groups recorded, and each change audited."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sso_helpers import MAPPING, OWNER, make_owner, sso_settings

from zhiku.accounts.store import AccountStore
from zhiku.core.errors import Forbidden
from zhiku.sso.identities import DirectoryAccount, directory_groups
from zhiku.sso.mapping import parse_rules
from zhiku.sso.signin import Attempt, sign_in
from zhiku.store.db import Database, open_database

RULES = parse_rules(MAPPING)
ATTEMPT = Attempt("oidc", "192.0.2.7", 1.0)


@pytest.fixture
def store(zhiku_home: Path) -> Iterator[AccountStore]:
    settings = sso_settings(zhiku_home)
    make_owner(settings)
    db = open_database(settings)
    yield AccountStore(db)
    db.close()


def _as(account: DirectoryAccount) -> tuple[DirectoryAccount, None]:
    return account, None


def _actions(db: Database) -> list[str]:
    rows = db.conn.execute("SELECT action FROM audit_log ORDER BY id").fetchall()
    return [str(r[0]) for r in rows]


def test_roles_follow_the_groups_at_every_sign_in(store: AccountStore) -> None:
    account = DirectoryAccount("https://idp.example", "u-1", "mei@acme.example", "Mei",
                               ["zhiku-admins"])
    token = sign_in(store, lambda: _as(account), RULES, ATTEMPT)
    first = store.authenticate(token)
    assert first.user_id is not None and first.level.name == "ADMIN"
    moved = DirectoryAccount(account.provider, account.subject, "mei@acme.example", "Mei",
                             ["staff"])
    second = store.authenticate(sign_in(store, lambda: _as(moved), RULES, ATTEMPT))
    assert second.user_id == first.user_id and second.level.name == "READ"
    assert directory_groups(store.db.conn, first.user_id) == ["staff"]
    actions = _actions(store.db)
    assert actions.count("member.join") == 1 and actions.count("member.role") == 1
    assert actions.count("auth.login") == 2


def test_an_existing_account_is_linked_by_e_mail(store: AccountStore) -> None:
    owner_id = store.user_id(OWNER[0])
    account = DirectoryAccount("ldap:ldap://dc", "cn=owner", OWNER[0].upper(), "", [])
    principal = store.authenticate(sign_in(store, lambda: _as(account), RULES, ATTEMPT))
    assert principal.user_id == owner_id  # the owner keeps their role: no rule names them


def test_an_unverified_e_mail_of_an_existing_account_is_refused(store: AccountStore) -> None:
    account = DirectoryAccount("https://idp.example", "attacker", OWNER[0], "", ["staff"],
                               email_verified=False)
    with pytest.raises(Forbidden, match="not verified"):
        sign_in(store, lambda: _as(account), RULES, ATTEMPT)
    row = store.db.conn.execute(
        "SELECT result FROM audit_log WHERE action = 'auth.login' ORDER BY id DESC").fetchone()
    assert row[0] == "failure"
