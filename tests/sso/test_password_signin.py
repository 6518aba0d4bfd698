"""Password sign-in turned off per workspace: members are refused with a clear error (and the
refusal is audited), the instance owner keeps password sign-in, invitations cannot make new
password accounts there, and only admins change the switch."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sso_helpers import OWNER, make_owner, sso_settings

from zhiku.accounts.bootstrap import Bootstrapped
from zhiku.api.app import create_app

PASSWORD = "a-long-member-secret"


@pytest.fixture
def app(zhiku_home: Path) -> Iterator[tuple[TestClient, Bootstrapped]]:
    settings = sso_settings(zhiku_home)
    with TestClient(create_app(settings, worker=False)) as client:
        yield client, make_owner(settings)


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def _member(client: TestClient, owner: Bootstrapped, email: str, role: str) -> None:
    invited = client.post("/v1/users", json={"email": email, "role": role},
                          headers=_bearer(owner.key)).json()
    answer = client.post("/v1/auth/signup", json={"token": invited["token"],
                                                  "password": PASSWORD})
    assert answer.status_code == 201, answer.text


def _login(client: TestClient, email: str, password: str) -> Any:
    return client.post("/v1/auth/login", json={"email": email, "password": password})


def test_members_are_refused_and_the_instance_owner_is_not(
        app: tuple[TestClient, Bootstrapped]) -> None:
    client, owner = app
    _member(client, owner, "editor@acme.example", "editor")
    assert client.get("/v1/workspace/signin", headers=_bearer(owner.key)).json() == {
        "password_signin": True}
    off = client.patch("/v1/workspace/signin", json={"password_signin": False},
                       headers=_bearer(owner.key))
    assert off.status_code == 200 and off.json() == {"password_signin": False}

    refused = _login(client, "editor@acme.example", PASSWORD)
    assert refused.status_code == 403
    error = refused.json()["error"]
    assert "password sign-in is turned off in workspace 'acme'" in error["message"]
    assert error["password_signin"] is False
    assert _login(client, *OWNER).status_code == 200  # nobody is locked out

    audit = client.get("/v1/audit", params={"action": "auth.login"},
                       headers=_bearer(owner.key)).json()
    entries = audit["entries"] if isinstance(audit, dict) else audit
    assert any(e["result"] == "failure" and "turned off" in e["detail"]["error"]
               for e in entries)
    changes = client.get("/v1/audit", params={"action": "workspace.signin"},
                         headers=_bearer(owner.key)).json()
    assert (changes["entries"] if isinstance(changes, dict) else changes)

    client.patch("/v1/workspace/signin", json={"password_signin": True},
                 headers=_bearer(owner.key))
    assert _login(client, "editor@acme.example", PASSWORD).status_code == 200


def test_an_invitation_makes_no_password_account_while_off(
        app: tuple[TestClient, Bootstrapped]) -> None:
    client, owner = app
    client.patch("/v1/workspace/signin", json={"password_signin": False},
                 headers=_bearer(owner.key))
    invited = client.post("/v1/users", json={"email": "late@acme.example", "role": "viewer"},
                          headers=_bearer(owner.key)).json()
    answer = client.post("/v1/auth/signup", json={"token": invited["token"],
                                                  "password": PASSWORD})
    assert answer.status_code == 403 and "turned off" in answer.json()["error"]["message"]


def test_only_admins_turn_it_off(app: tuple[TestClient, Bootstrapped]) -> None:
    client, owner = app
    _member(client, owner, "editor@acme.example", "editor")
    token = _login(client, "editor@acme.example", PASSWORD).json()["token"]
    answer = client.patch("/v1/workspace/signin", json={"password_signin": False},
                          headers=_bearer(token))
    assert answer.status_code == 403
    assert client.get("/v1/workspace/signin", headers=_bearer(token)).json() == {
        "password_signin": True}
