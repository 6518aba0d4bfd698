"""Invitations: an admin invites an e-mail, the person accepts or declines (or signs up with the
one-time token); nobody is added to a workspace without consent, and the inviter cannot tell
whether an e-mail has an account."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from api_helpers import Tenant, api_settings, invite, join, make_tenant
from fastapi.testclient import TestClient

from zhiku.api.app import create_app


def _login(client: TestClient, t: Tenant, **extra: Any) -> Any:
    return client.post("/v1/auth/login", json={"email": t.email, "password": t.password, **extra})


def _session(client: TestClient, t: Tenant, **extra: Any) -> dict[str, str]:
    r = _login(client, t, **extra)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _shape(answer: dict[str, Any]) -> dict[str, Any]:
    varying = {"id", "email", "token", "created_at", "expires_at"}
    return {k: (type(v).__name__ if k in varying else v) for k, v in answer.items()}


def test_inviting_answers_alike_and_adds_nobody(
    client: TestClient, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    known = client.post("/v1/users", headers=tenant_a.headers,
                        json={"email": tenant_b.email, "role": "editor"})
    unknown = client.post("/v1/users", headers=tenant_a.headers,
                          json={"email": "nobody@nowhere.example", "role": "editor"})
    assert known.status_code == unknown.status_code == 202
    assert _shape(known.json()) == _shape(unknown.json())
    assert known.json()["token"].startswith("zki_")
    # the invitee's account is untouched: one workspace, their own, where sign-in lands
    bh = _session(client, tenant_b)
    assert client.get("/v1/auth/me", headers=bh).json()["workspace"] == "globex"
    assert [w["name"] for w in client.get("/v1/workspaces", headers=bh).json()] == ["globex"]
    emails = [m["email"] for m in client.get("/v1/users", headers=tenant_a.headers).json()]
    assert tenant_b.email not in emails
    # the admin sees both pending; the invitee sees theirs only
    pending = client.get("/v1/invitations", headers=tenant_a.headers).json()
    assert {i["email"] for i in pending} == {tenant_b.email, "nobody@nowhere.example"}
    mine = client.get("/v1/auth/invitations", headers=bh).json()
    assert [(i["workspace"], i["role"]) for i in mine] == [("acme", "editor")]
    assert mine[0]["invited_by"] is None  # invited with an API key
    assert "token" not in mine[0]


def test_invitee_accepts_then_chooses_a_workspace_at_sign_in(
    client: TestClient, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    invite(client, tenant_a, tenant_b.email.upper(), "editor")
    bh = _session(client, tenant_b)
    (invitation,) = client.get("/v1/auth/invitations", headers=bh).json()
    # another user cannot accept it, nor an API key
    ah = _session(client, tenant_a)
    url = f"/v1/auth/invitations/{invitation['id']}/accept"
    assert client.post(url, headers=ah).status_code == 404
    assert client.post(url, headers=tenant_b.headers).status_code == 403
    r = client.post(url, headers=bh)
    assert r.status_code == 200 and r.json() == {
        "id": tenant_a.workspace_id, "name": "acme", "role": "editor"}
    assert client.post(url, headers=bh).status_code == 404  # once
    assert client.get("/v1/invitations", headers=tenant_a.headers).json() == []
    r = _login(client, tenant_b)
    assert r.status_code == 409 and r.json()["error"]["type"] == "choose_workspace"
    assert r.json()["error"]["workspaces"] == ["acme", "globex"]
    eh = _session(client, tenant_b, workspace="acme")
    assert client.get("/v1/auth/me", headers=eh).json()["level"] == "write"


def test_invitee_declines_and_admin_revokes(
    client: TestClient, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    invite(client, tenant_a, tenant_b.email, "viewer")
    bh = _session(client, tenant_b)
    (invitation,) = client.get("/v1/auth/invitations", headers=bh).json()
    assert client.post(f"/v1/auth/invitations/{invitation['id']}/decline",
                       headers=bh).status_code == 200
    assert client.get("/v1/auth/invitations", headers=bh).json() == []
    assert client.get("/v1/invitations", headers=tenant_a.headers).json() == []
    assert _login(client, tenant_b).status_code == 200  # still one workspace

    token = invite(client, tenant_a, "carol@nowhere.example", "editor")["token"]
    (pending,) = client.get("/v1/invitations", headers=tenant_a.headers).json()
    # another workspace cannot revoke it
    assert client.delete(f"/v1/invitations/{pending['id']}",
                         headers=tenant_b.headers).status_code == 404
    assert client.delete(f"/v1/invitations/{pending['id']}",
                         headers=tenant_a.headers).status_code == 200
    r = client.post("/v1/auth/signup", json={"token": token, "password": "carol-long-secret"})
    assert r.status_code == 401


def test_signup_with_the_token_creates_the_account_once(
    client: TestClient, tenant_a: Tenant
) -> None:
    token = invite(client, tenant_a, "dana@nowhere.example", "editor")["token"]
    r = client.post("/v1/auth/signup", json={"token": token, "password": "12345678"})
    assert r.status_code == 400 and "at least 10 characters" in r.json()["error"]["message"]
    r = client.post("/v1/auth/signup", json={"token": token, "password": "dana-long-secret",
                                             "name": "Dana"})
    assert r.status_code == 201
    dh = {"Authorization": f"Bearer {r.json()['token']}"}
    me = client.get("/v1/auth/me", headers=dh).json()
    assert (me["workspace"], me["level"]) == ("acme", "write")
    assert client.get(f"/v1/users/{me['user_id']}", headers=dh).json()["name"] == "Dana"
    r = client.post("/v1/auth/signup", json={"token": token, "password": "dana-long-secret"})
    assert r.status_code == 401  # used
    assert client.post("/v1/auth/login", json={
        "email": "dana@nowhere.example", "password": "dana-long-secret"}).status_code == 200


def test_signup_token_for_an_existing_account_needs_its_password(
    client: TestClient, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    token = invite(client, tenant_a, tenant_b.email, "viewer")["token"]
    r = client.post("/v1/auth/signup", json={"token": token, "password": "a-guess-by-acme"})
    assert r.status_code == 401
    assert _login(client, tenant_b).status_code == 200  # password unchanged, no new workspace
    r = client.post("/v1/auth/signup", json={"token": token, "password": tenant_b.password})
    assert r.status_code == 201
    me = client.get("/v1/auth/me", headers={"Authorization": f"Bearer {r.json()['token']}"})
    assert (me.json()["workspace"], me.json()["level"]) == ("acme", "read")


def test_inviting_a_member_again_is_refused(client: TestClient, tenant_a: Tenant) -> None:
    join(client, tenant_a, "erin@acme.example", "erin-long-secret", "viewer")
    r = client.post("/v1/users", headers=tenant_a.headers,
                    json={"email": "ERIN@acme.example", "role": "admin"})
    assert r.status_code == 409


def test_invitations_expire(zhiku_home: Path) -> None:
    settings = api_settings(zhiku_home, api_invitation_hours=1.0 / 3600)
    with TestClient(create_app(settings)) as client:
        t = make_tenant(settings, "acme")
        token = invite(client, t, "late@nowhere.example", "viewer")["token"]
        assert len(client.get("/v1/invitations", headers=t.headers).json()) == 1
        time.sleep(1.1)
        assert client.get("/v1/invitations", headers=t.headers).json() == []
        r = client.post("/v1/auth/signup", json={"token": token, "password": "late-long-secret"})
        assert r.status_code == 401



def test_a_removed_member_can_be_invited_back(client: TestClient, tenant_a: Tenant) -> None:
    erin = join(client, tenant_a, "erin@acme.example", "erin-long-secret", "viewer")
    assert client.delete(f"/v1/users/{erin['user_id']}",
                         headers=tenant_a.headers).status_code == 200
    token = invite(client, tenant_a, "erin@acme.example", "editor")["token"]
    # an account in no workspace cannot sign in; the invitation code with its own password
    # (the sign-in page's "join" form) brings it back, with the role of the new invitation
    login = client.post("/v1/auth/login", json={"email": "erin@acme.example",
                                                "password": "erin-long-secret"})
    assert login.status_code == 403 and "invitation" in login.json()["error"]["message"]
    back = client.post("/v1/auth/signup", json={"token": token, "password": "erin-long-secret"})
    assert back.status_code == 201, back.text
    members = {m["email"]: m["role"] for m in
               client.get("/v1/users", headers=tenant_a.headers).json()}
    assert members["erin@acme.example"] == "editor"
