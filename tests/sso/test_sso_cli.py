"""``zhiku admin sso-check`` against the real provider and directory, and ``zhiku admin
password-signin`` (the server operator's switch, audited)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ldap_server import SERVICE_DN, SERVICE_PASSWORD, Slapd
from oidc_provider import CLIENTS, Provider
from sso_helpers import MAPPING, make_owner, sso_settings
from typer.testing import CliRunner

from zhiku.accounts import password_signin
from zhiku.cli.main import create_app
from zhiku.store.db import open_database


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, oidc_provider: Provider, slapd: Slapd) -> None:
    for name, value in {
        "OIDC_ISSUER": oidc_provider.issuer, "OIDC_CLIENT_ID": CLIENTS[0]["client_id"],
        "OIDC_CLIENT_SECRET": CLIENTS[0]["client_secret"], "LDAP_URL": slapd.url,
        "LDAP_BIND_DN": SERVICE_DN, "LDAP_BIND_PASSWORD": SERVICE_PASSWORD,
        "LDAP_USER_BASE": slapd.users, "SSO_ROLE_MAPPING": json.dumps(MAPPING),
    }.items():
        monkeypatch.setenv(f"ZHIKU_{name}", value)


def test_sso_check_reports_each_part(env: None, zhiku_home: Path) -> None:
    result = CliRunner().invoke(create_app(), ["admin", "sso-check", "--login", "lihua",
                                               "--json"])
    assert result.exit_code == 0, result.output
    found = {f["what"]: f for f in json.loads(result.output)}
    assert found["mapping"]["ok"] and found["oidc"]["ok"] and found["ldap"]["ok"]
    assert found["ldap"]["roles"] == {"acme": "admin"}  # memberOf: zhiku-admins and staff


def test_sso_check_fails_on_a_wrong_service_password(
        env: None, zhiku_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZHIKU_LDAP_BIND_PASSWORD", "wrong")
    result = CliRunner().invoke(create_app(), ["admin", "sso-check"])
    assert result.exit_code == 1
    assert "service account could not bind" in result.output


def test_password_signin_switch(zhiku_home: Path) -> None:
    settings = sso_settings(zhiku_home)
    owner = make_owner(settings)
    runner = CliRunner()
    result = runner.invoke(create_app(), ["admin", "password-signin", "off",
                                          "--workspace", "acme"])
    assert result.exit_code == 0, result.output
    db = open_database(settings)
    try:
        assert not password_signin.allowed(db, owner.workspace_id)
        rows = db.conn.execute("SELECT action FROM audit_log WHERE action = 'workspace.signin'"
                               ).fetchall()
        assert len(rows) == 1
    finally:
        db.close()
    missing = runner.invoke(create_app(), ["admin", "password-signin", "on",
                                           "--workspace", "nowhere"])
    assert missing.exit_code != 0 and "does not exist" in missing.output
