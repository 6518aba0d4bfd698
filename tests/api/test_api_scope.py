"""Handing out access: a principal never creates, grants, lists or revokes anything wider than
itself (keys, members, roles)."""

from __future__ import annotations

from typing import Any

import pytest
from api_helpers import HANDBOOK, Tenant, join, wait_job
from fastapi.testclient import TestClient


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _key(client: TestClient, headers: dict[str, str], **body: Any) -> Any:
    return client.post("/v1/keys", headers=headers, json=body)


@pytest.fixture
def scoped(client: TestClient, tenant_a: Tenant) -> dict[str, Any]:
    """An admin key limited to knowledge base kbA, and one limited to assistant bota."""
    kb = _key(client, tenant_a.headers, name="kbA admin", access="admin",
              knowledge_bases=["kbA"]).json()
    bot = _key(client, tenant_a.headers, name="bota admin", access="admin",
               assistants=["bota"]).json()
    return {"kb": kb, "kb_h": _bearer(kb["key"]), "bot": bot, "bot_h": _bearer(bot["key"])}


def test_scoped_key_creates_only_keys_within_its_scope(
    client: TestClient, tenant_a: Tenant, scoped: dict[str, Any]
) -> None:
    h = scoped["kb_h"]
    for wider in ({"access": "admin"}, {"access": "read"},
                  {"access": "admin", "knowledge_bases": ["kbA2"]},
                  {"access": "read", "knowledge_bases": ["kbA", "kbA2"]}):
        r = _key(client, h, **wider)
        assert r.status_code == 403, wider
        assert r.json()["error"]["type"] == "forbidden"
    r = _key(client, h, access="read_write", knowledge_bases=["kbA"])
    assert r.status_code == 201 and r.json()["knowledge_bases"] == ["kbA"]
    assert _key(client, h, access="read", knowledge_bases=[]).status_code == 201
    bh = scoped["bot_h"]
    assert _key(client, bh, access="read").status_code == 403  # every assistant: wider
    assert _key(client, bh, access="read", assistants=["botb"]).status_code == 403
    assert _key(client, bh, access="read", assistants=["bota"],
                knowledge_bases=["kbA"]).status_code == 201
    # level: a read_write key creates nothing, an unrestricted admin key anything up to admin
    rw = _key(client, tenant_a.headers, access="read_write").json()["key"]
    assert _key(client, _bearer(rw), access="read").status_code == 403


def test_scoped_key_lists_gets_and_revokes_only_keys_within_its_scope(
    client: TestClient, tenant_a: Tenant, scoped: dict[str, Any]
) -> None:
    h = scoped["kb_h"]
    mine = _key(client, h, name="child", access="read", knowledge_bases=["kbA"]).json()
    listed = {k["name"] for k in client.get("/v1/keys", headers=h).json()}
    assert listed == {"kbA admin", "child"}  # not the unrestricted ones, not bota's
    everything = {k["name"] for k in client.get("/v1/keys", headers=tenant_a.headers).json()}
    assert {"admin", "kbA admin", "bota admin", "child"} <= everything
    admin_id = next(k["id"] for k in client.get("/v1/keys", headers=tenant_a.headers).json()
                    if k["name"] == "admin")
    for method in ("GET", "DELETE"):
        r = client.request(method, f"/v1/keys/{admin_id}", headers=h)
        assert r.status_code == 404, method
        r = client.request(method, f"/v1/keys/{scoped['bot']['id']}", headers=h)
        assert r.status_code == 404, method
    assert client.get("/v1/kbs", headers=tenant_a.headers).status_code == 200  # not revoked
    assert client.delete(f"/v1/keys/{mine['id']}", headers=h).json()["revoked_at"]
    assert client.delete(f"/v1/keys/{scoped['kb']['id']}", headers=h).json()["revoked_at"]


def test_scoped_key_manages_no_members(
    client: TestClient, tenant_a: Tenant, scoped: dict[str, Any]
) -> None:
    member = join(client, tenant_a, "vic@acme.example", "vic-long-secret", "viewer")
    for h in (scoped["kb_h"], scoped["bot_h"]):
        calls = [
            ("POST", "/v1/users", {"email": "mallory@acme.example", "role": "admin"}),
            ("GET", "/v1/users", None),
            ("GET", f"/v1/users/{member['user_id']}", None),
            ("PATCH", f"/v1/users/{member['user_id']}", {"role": "admin"}),
            ("DELETE", f"/v1/users/{member['user_id']}", None),
            ("GET", "/v1/invitations", None),
            ("GET", "/metrics", None),
        ]
        for method, url, body in calls:
            r = client.request(method, url, headers=h, json=body)
            assert r.status_code == 403, (method, url, r.text)
    got = client.get(f"/v1/users/{member['user_id']}", headers=tenant_a.headers).json()
    assert got["role"] == "viewer"
    assert client.get("/v1/invitations", headers=tenant_a.headers).json() == []


def test_roles_are_granted_only_up_to_the_granter(client: TestClient, tenant_a: Tenant) -> None:
    admin = join(client, tenant_a, "ada@acme.example", "ada-long-secret", "admin")
    ah = admin["headers"]
    owner = client.post("/v1/auth/login", json={"email": tenant_a.email,
                                                "password": tenant_a.password}).json()["token"]
    oh = _bearer(owner)
    owner_id = client.get("/v1/auth/me", headers=oh).json()["user_id"]
    assert client.post("/v1/users", headers=ah,
                       json={"email": "o2@acme.example", "role": "owner"}).status_code == 403
    assert client.post("/v1/users", headers=ah,
                       json={"email": "a2@acme.example", "role": "admin"}).status_code == 202
    assert client.patch(f"/v1/users/{owner_id}", headers=ah,
                        json={"role": "viewer"}).status_code == 403
    assert client.patch(f"/v1/users/{admin['user_id']}", headers=ah,
                        json={"role": "owner"}).status_code == 403
    # an admin cannot revoke an invitation to the owner role, nor an owner's key
    assert client.post("/v1/users", headers=oh,
                       json={"email": "o3@acme.example", "role": "owner"}).status_code == 202
    owner_invite = next(i for i in client.get("/v1/invitations", headers=ah).json()
                        if i["role"] == "owner")
    assert client.delete(f"/v1/invitations/{owner_invite['id']}",
                         headers=ah).status_code == 403
    owners_key = next(k for k in client.get("/v1/keys", headers=ah).json() if k["name"] == "admin")
    r = client.delete(f"/v1/keys/{owners_key['id']}", headers=ah)
    assert r.status_code == 403 and "owner" in r.json()["error"]["message"]
    # the owner's own admin key cannot revoke a sibling owner key either (it is not an owner)
    sibling = _key(client, oh, name="owner's second", access="admin").json()
    assert client.delete(f"/v1/keys/{sibling['id']}", headers=tenant_a.headers).status_code == 403
    # an admin revokes keys an admin created; the owner revokes anything
    own = _key(client, ah, name="ada's", access="read").json()
    assert client.delete(f"/v1/keys/{own['id']}", headers=ah).status_code == 200
    assert client.delete(f"/v1/keys/{owners_key['id']}", headers=oh).status_code == 200


def test_scoped_admin_key_sees_feedback_only_on_assistants_within_its_scope(
    client: TestClient, tenant_a: Tenant
) -> None:
    h = tenant_a.headers
    for kb in ("kbA", "kbA2"):
        assert client.post("/v1/kbs", headers=h, json={"name": kb}).status_code == 201
        r = client.post(f"/v1/kbs/{kb}/documents", headers=h,
                        files=[("files", ("handbook.md", HANDBOOK.encode(), "text/markdown"))])
        assert wait_job(client, h, r.json()["id"])["status"] == "done"
        r = client.post("/v1/assistants", headers=h,
                        json={"slug": f"{kb.lower()}-bot", "config": {"knowledge_bases": [kb]}})
        assert r.status_code == 201, r.text
        chat = client.post(f"/v1/assistants/{kb.lower()}-bot/chat", headers=h,
                           json={"message": "How many days of paid annual leave?"}).json()
        r = client.post(f"/v1/messages/{chat['message_id']}/feedback", headers=h,
                        json={"rating": "up"})
        assert r.status_code == 201, r.text
    everything = {f["assistant"] for f in client.get("/v1/feedback", headers=h).json()}
    assert everything == {"kba-bot", "kba2-bot"}
    scoped = _key(client, h, name="kbA admin", access="admin", knowledge_bases=["kbA"]).json()
    seen = client.get("/v1/feedback", headers=_bearer(scoped["key"])).json()
    assert {f["assistant"] for f in seen} == {"kba-bot"}
