"""Directory sign-in against a real OpenLDAP slapd: the service account finds the user, the
user's own bind checks the password, groups (a groupOfNames search, or memberOf as Active
Directory keeps them) map to workspace roles, and every attempt is audited."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from ldap_server import PEOPLE_PASSWORDS, Slapd
from sso_helpers import add_workspace, ldap_settings, make_owner

from zhiku.accounts.bootstrap import Bootstrapped
from zhiku.api.app import create_app
from zhiku.permissions.context import reading_as
from zhiku.service import Zhiku
from zhiku.sso.identities import directory_groups
from zhiku.store.db import open_database
from zhiku.store.reader import EVERYTHING


@pytest.fixture
def app(zhiku_home: Path, slapd: Slapd) -> Iterator[tuple[TestClient, Bootstrapped]]:
    settings = ldap_settings(zhiku_home, slapd)
    with TestClient(create_app(settings, worker=False)) as client:
        yield client, make_owner(settings)


def _login(client: TestClient, login: str, password: str, **extra: Any) -> Any:
    return client.post("/v1/auth/ldap/login",
                       json={"login": login, "password": password, **extra})


def _audit(client: TestClient, owner: Bootstrapped) -> list[dict[str, Any]]:
    answer = client.get("/v1/audit", params={"action": "auth.login"},
                        headers={"Authorization": f"Bearer {owner.key}"})
    body = answer.json()
    return list(body["entries"] if isinstance(body, dict) else body)


def test_methods_offer_the_directory(app: tuple[TestClient, Bootstrapped]) -> None:
    client, _ = app
    assert client.get("/v1/auth/methods").json() == {"password": True, "oidc": None,
                                                      "ldap": True}


def test_a_directory_admin_signs_in_with_the_mapped_role(
        app: tuple[TestClient, Bootstrapped], zhiku_home: Path) -> None:
    client, owner = app
    answer = _login(client, "lihua", PEOPLE_PASSWORDS["lihua"])
    assert answer.status_code == 200, answer.text
    token = answer.json()["token"]
    me = client.get("/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["workspace"] == "acme" and me["level"] == "admin"
    member = client.get(f"/v1/users/{me['user_id']}",
                        headers={"Authorization": f"Bearer {owner.key}"}).json()
    assert member == {**member, "email": "lihua@acme.example", "name": "Li Hua",
                      "role": "admin"}
    db = open_database(ldap_settings(zhiku_home, Slapd("ldap://unused")))
    try:
        groups = directory_groups(db.conn, me["user_id"])
    finally:
        db.close()
    assert "zhiku-admins" in groups and "cn=staff,ou=groups,dc=acme,dc=example" in groups
    entry = _audit(client, owner)[0]
    assert entry["result"] == "success" and entry["detail"]["method"] == "ldap"


def test_e_mail_works_as_the_login_and_staff_map_to_viewer(
        app: tuple[TestClient, Bootstrapped]) -> None:
    client, _ = app
    answer = _login(client, "wangfang@acme.example", PEOPLE_PASSWORDS["wangfang"], cookie=True)
    assert answer.status_code == 200 and answer.json()["token"] is None
    assert client.get("/v1/auth/me").json()["level"] == "read"  # the cookie session


def test_a_wrong_password_is_refused_and_audited(app: tuple[TestClient, Bootstrapped]) -> None:
    client, owner = app
    answer = _login(client, "lihua", "not-her-password")
    assert answer.status_code == 401
    assert answer.json()["error"]["message"] == "wrong user name or password"
    unknown = _login(client, "nobody-at-all", "whatever-password")
    assert unknown.status_code == 401 and unknown.json() == answer.json()
    _login(client, "lihua", PEOPLE_PASSWORDS["lihua"])  # linked now: her failures go to acme
    _login(client, "lihua", "wrong-again")
    failures = [e for e in _audit(client, owner) if e["result"] == "failure"]
    assert failures and failures[0]["detail"]["method"] == "ldap"


def test_an_injected_filter_finds_nobody(app: tuple[TestClient, Bootstrapped]) -> None:
    client, _ = app
    assert _login(client, "*)(uid=*", PEOPLE_PASSWORDS["lihua"]).status_code == 401
    assert _login(client, "li*", PEOPLE_PASSWORDS["lihua"]).status_code == 401


def test_a_user_of_no_mapped_group_gets_a_clear_error(
        app: tuple[TestClient, Bootstrapped]) -> None:
    client, _ = app
    answer = _login(client, "nobody", PEOPLE_PASSWORDS["nobody"])
    assert answer.status_code == 403
    assert "not mapped to any workspace" in answer.json()["error"]["message"]


def test_member_of_as_active_directory_keeps_groups(zhiku_home: Path, slapd: Slapd) -> None:
    settings = ldap_settings(zhiku_home, slapd, ldap_group_base=None)
    with TestClient(create_app(settings, worker=False)) as client:
        make_owner(settings)
        answer = _login(client, "lihua", PEOPLE_PASSWORDS["lihua"])
        assert answer.status_code == 200, answer.text
        me = client.get("/v1/auth/me",
                        headers={"Authorization": f"Bearer {answer.json()['token']}"}).json()
        assert me["level"] == "admin"


def test_a_wrong_service_password_is_a_server_error(zhiku_home: Path, slapd: Slapd) -> None:
    settings = ldap_settings(zhiku_home, slapd, ldap_bind_password="not-the-secret")
    with TestClient(create_app(settings, worker=False)) as client:
        answer = _login(client, "lihua", PEOPLE_PASSWORDS["lihua"])
        assert answer.status_code == 502
        assert "service account could not bind" in answer.json()["error"]["message"]


def test_not_configured_is_404(zhiku_home: Path) -> None:
    from sso_helpers import sso_settings
    with TestClient(create_app(sso_settings(zhiku_home), worker=False)) as client:
        assert _login(client, "lihua", "x").status_code == 404
        assert client.get("/v1/auth/oidc/login", follow_redirects=False).status_code == 404
        assert client.get("/v1/auth/methods").json() == {"password": True, "oidc": None,
                                                          "ldap": False}


def test_people_in_several_workspaces_choose_one(zhiku_home: Path, slapd: Slapd) -> None:
    mapping = {"staff": ["acme:viewer", "beta:editor"]}
    settings = ldap_settings(zhiku_home, slapd, sso_role_mapping=mapping)
    with TestClient(create_app(settings, worker=False)) as client:
        make_owner(settings)
        add_workspace(settings, "beta")
        answer = _login(client, "wangfang", PEOPLE_PASSWORDS["wangfang"])
        assert answer.status_code == 409
        assert answer.json()["error"]["workspaces"] == ["acme", "beta"]
        chosen = _login(client, "wangfang", PEOPLE_PASSWORDS["wangfang"], workspace="beta")
        me = client.get("/v1/auth/me",
                        headers={"Authorization": f"Bearer {chosen.json()['token']}"}).json()
        assert me["workspace"] == "beta" and me["level"] == "write"
        elsewhere = _login(client, "wangfang", PEOPLE_PASSWORDS["wangfang"], workspace="gamma")
        assert elsewhere.status_code == 403


def test_directory_groups_are_permission_groups_of_the_same_name(
        app: tuple[TestClient, Bootstrapped], zhiku_home: Path, tmp_path: Path) -> None:
    """A document restricted to the workspace's group ``staff`` is read by a person the
    directory puts in ``cn=staff,…``, and one restricted to ``finance`` is not."""
    client, owner = app
    with Zhiku(ldap_settings(zhiku_home, Slapd("ldap://unused")), workspace="acme") as zk, \
            reading_as(EVERYTHING):
        zk.create_kb("kb", embedder="hashing")
        for name in ("staff", "finance"):
            zk.permissions.create_group(name)
            folder = tmp_path / name
            folder.mkdir()
            (folder / f"{name}.md").write_text(
                f"# {name}\n\nThe {name} handbook code is HB-{name.upper()}-77.\n")
            zk.ingest("kb", [folder], groups=[name])
    answer = _login(client, "wangfang", PEOPLE_PASSWORDS["wangfang"])
    assert answer.status_code == 200, answer.text

    def search(key: str) -> str:
        r = client.post("/v1/search", headers={"Authorization": f"Bearer {key}"},
                        json={"query": "handbook code", "knowledge_bases": ["kb"]})
        assert r.status_code == 200, r.text
        return r.text

    assert "HB-STAFF-77" in search(owner.key) and "HB-FINANCE-77" in search(owner.key)
    seen = search(answer.json()["token"])
    assert "HB-STAFF-77" in seen and "HB-FINANCE-77" not in seen
