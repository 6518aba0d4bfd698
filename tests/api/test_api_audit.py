"""The audit log over HTTP: every change of the workspace recorded once with its actor, the
client's address and the result; failed sign-ins too; admins only, one workspace each;
filters, paging and the JSON-lines export."""

from __future__ import annotations

import json
from typing import Any

from api_helpers import HANDBOOK, Tenant, invite, join, wait_job
from fastapi.testclient import TestClient

ADDRESS = "testclient"  # the peer address Starlette's test client reports


def _entries(client: TestClient, t: Tenant, **params: Any) -> list[dict[str, Any]]:
    r = client.get("/v1/audit", headers=t.headers, params={"limit": 500, **params})
    assert r.status_code == 200, r.text
    return list(r.json()["entries"])


def _one(entries: list[dict[str, Any]], action: str) -> dict[str, Any]:
    found = [e for e in entries if e["action"] == action]
    assert len(found) == 1, (action, found)
    return found[0]


def test_every_change_is_recorded_once_with_actor_address_and_result(
    client: TestClient, tenant_a: Tenant
) -> None:
    h = tenant_a.headers
    before = max(e["id"] for e in _entries(client, tenant_a))  # what `admin init` recorded
    assert client.post("/v1/kbs", headers=h, json={"name": "hr"}).status_code == 201
    r = client.patch("/v1/kbs/hr", headers=h, json={"settings": {"chunk_tokens": 200}})
    assert r.status_code == 200
    r = client.post("/v1/kbs/hr/documents", headers=h,
                    files=[("files", ("handbook.md", HANDBOOK.encode(), "text/markdown"))])
    job = wait_job(client, h, r.json()["id"])
    doc_id = job["files"][0]["document_id"]
    assert client.patch(f"/v1/kbs/hr/documents/{doc_id}", headers=h,
                        json={"tags": ["hr"]}).status_code == 200
    chunk = client.get(f"/v1/kbs/hr/documents/{doc_id}/chunks", headers=h).json()[0]
    assert client.patch(f"/v1/kbs/hr/chunks/{chunk['id']}", headers=h,
                        json={"text": "Leave is fifteen days."}).status_code == 200
    assert client.patch(f"/v1/kbs/hr/chunks/{chunk['id']}", headers=h,
                        json={"enabled": False}).status_code == 200
    r = client.post(f"/v1/kbs/hr/documents/{doc_id}/reindex", headers=h)
    new_doc = wait_job(client, h, r.json()["id"])["files"][0]["document_id"]
    assert client.delete(f"/v1/kbs/hr/documents/{new_doc}", headers=h).status_code == 200
    slug = "hr-bot"
    assert client.post("/v1/assistants", headers=h, json={
        "slug": slug, "name": "Bot", "config": {"knowledge_bases": ["hr"]}}).status_code == 201
    assert client.patch(f"/v1/assistants/{slug}", headers=h,
                        json={"name": "HR bot"}).status_code == 200
    assert client.post(f"/v1/assistants/{slug}/publish", headers=h, json={}).status_code == 200
    assert client.delete(f"/v1/assistants/{slug}", headers=h).status_code == 200
    key = client.post("/v1/keys", headers=h, json={"name": "reader", "access": "read"}).json()
    assert client.delete(f"/v1/keys/{key['id']}", headers=h).status_code == 200
    pending = invite(client, tenant_a, "later@acme.example", "editor")
    assert client.delete(f"/v1/invitations/{pending['id']}", headers=h).status_code == 200
    member = join(client, tenant_a, "viewer@acme.example", "viewer-password", "viewer")
    assert client.patch(f"/v1/users/{member['user_id']}", headers=h,
                        json={"role": "editor"}).status_code == 200
    assert client.delete(f"/v1/users/{member['user_id']}", headers=h).status_code == 200
    assert client.delete("/v1/kbs/hr", headers=h).status_code == 200

    entries = [e for e in _entries(client, tenant_a) if e["id"] > before]
    by_key = {"kb.create", "kb.update", "document.upload", "document.update", "chunk.update",
              "chunk.disable", "document.reindex", "document.delete", "assistant.create",
              "assistant.update", "assistant.publish", "assistant.delete", "key.create",
              "key.revoke", "invitation.revoke", "member.role",
              "member.remove", "kb.delete"}
    for action in by_key:
        entry = _one(entries, action)
        assert entry["actor_kind"] == "key" and entry["actor_name"] == "admin", entry
        assert entry["address"] == ADDRESS and entry["result"] == "success", entry
    assert _one(entries, "kb.delete")["target_name"] == "hr"
    assert _one(entries, "document.upload")["detail"]["files"] == ["handbook.md"]
    assert _one(entries, "document.delete")["target_id"] == str(new_doc)
    assert _one(entries, "key.create")["target_id"] == str(key["id"])
    assert _one(entries, "member.role")["detail"] == {"role": "editor", "previous": "viewer"}
    signup = _one(entries, "auth.signup")
    assert signup["actor_name"] == "viewer@acme.example" and signup["address"] == ADDRESS
    invited = [e["target_name"] for e in entries if e["action"] == "invitation.create"]
    assert sorted(invited) == ["later@acme.example", "viewer@acme.example"]
    assert entries == sorted(entries, key=lambda e: -e["id"])  # newest first


def test_sign_in_success_and_failure_are_recorded_with_the_address(
    client: TestClient, tenant_a: Tenant
) -> None:
    r = client.post("/v1/auth/login", json={"email": tenant_a.email, "password": "wrong-one"})
    assert r.status_code == 401
    r = client.post("/v1/auth/login", json={"email": tenant_a.email,
                                             "password": tenant_a.password})
    assert r.status_code == 200
    session = {"Authorization": f"Bearer {r.json()['token']}"}
    entries = _entries(client, tenant_a, action="auth")
    failed = [e for e in entries if e["result"] == "failure"]
    ok = [e for e in entries if e["result"] == "success"]
    assert len(failed) == 1 and len(ok) == 1, entries
    assert failed[0]["action"] == "auth.login" and failed[0]["actor_name"] == tenant_a.email
    assert failed[0]["address"] == ADDRESS and failed[0]["detail"]["error"]
    assert "wrong-one" not in json.dumps(entries)
    assert ok[0]["actor_kind"] == "user" and ok[0]["address"] == ADDRESS
    # what the session then does is recorded as the user
    assert client.post("/v1/kbs", headers=session, json={"name": "mine"}).status_code == 201
    made = _one(_entries(client, tenant_a, action="kb.create"), "kb.create")
    assert made["actor_kind"] == "user" and made["actor_name"] == tenant_a.email
    assert client.post("/v1/auth/logout", headers=session).status_code == 200
    out = _one(_entries(client, tenant_a, action="auth.logout"), "auth.logout")
    assert out["actor_name"] == tenant_a.email and out["address"] == ADDRESS


def test_a_refused_change_is_recorded_as_a_failure(
    client: TestClient, tenant_a: Tenant
) -> None:
    h = tenant_a.headers
    reader = client.post("/v1/keys", headers=h, json={"name": "r", "access": "read"}).json()
    r = client.post("/v1/keys", headers={"Authorization": f"Bearer {reader['key']}"},
                    json={"name": "wider", "access": "admin"})
    assert r.status_code == 403
    failed = _entries(client, tenant_a, action="key.create", result="failure")
    assert len(failed) == 1 and failed[0]["actor_name"] == "r"
    assert failed[0]["detail"]["error"]


def test_audit_is_for_workspace_wide_admins_of_their_own_workspace(
    client: TestClient, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    assert client.post("/v1/kbs", headers=tenant_a.headers, json={"name": "a-only"}
                       ).status_code == 201
    assert not [e for e in _entries(client, tenant_b) if e["target_name"] == "a-only"]
    assert _one(_entries(client, tenant_a), "kb.create")["target_name"] == "a-only"
    text = client.get("/v1/audit.jsonl", headers=tenant_b.headers).text
    assert "a-only" not in text
    for access, scope in (("read", None), ("read_write", None), ("admin", ["a-only"])):
        body: dict[str, Any] = {"name": access, "access": access, "knowledge_bases": scope}
        key = client.post("/v1/keys", headers=tenant_a.headers, json=body).json()["key"]
        for path in ("/v1/audit", "/v1/audit.jsonl"):
            r = client.get(path, headers={"Authorization": f"Bearer {key}"})
            assert r.status_code == 403, (access, path, r.text)
    assert client.get("/v1/audit").status_code == 401


def test_filters_paging_and_json_lines_export(client: TestClient, tenant_a: Tenant) -> None:
    h = tenant_a.headers
    for n in range(5):
        assert client.post("/v1/kbs", headers=h, json={"name": f"kb{n}"}).status_code == 201
    assert client.delete("/v1/kbs/kb0", headers=h).status_code == 200
    first = client.get("/v1/audit", headers=h, params={"action": "kb", "limit": 4}).json()
    assert len(first["entries"]) == 4 and first["next_cursor"]
    rest = client.get("/v1/audit", headers=h, params={
        "action": "kb.*", "limit": 4, "cursor": first["next_cursor"]}).json()
    assert [e["action"] for e in rest["entries"]] == ["kb.create", "kb.create"]
    assert rest["next_cursor"] is None
    assert [e["target_name"] for e in _entries(client, tenant_a, action="kb.delete")] == ["kb0"]
    assert _entries(client, tenant_a, actor="nobody") == []
    assert len(_entries(client, tenant_a, actor="ADM", action="kb.create")) == 5
    assert _entries(client, tenant_a, since="2999-01-01") == []
    assert _entries(client, tenant_a, until="2000-01-01T00:00:00+08:00") == []
    at = _entries(client, tenant_a, action="kb.delete")[0]["at"]
    assert len(_entries(client, tenant_a, since=at, action="kb")) == 1
    r = client.get("/v1/audit", headers=h, params={"since": "yesterday"})
    assert r.status_code == 400 and "ISO" in r.json()["error"]["message"]
    r = client.get("/v1/audit.jsonl", headers=h, params={"action": "kb"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/jsonl")
    lines = [json.loads(line) for line in r.text.splitlines()]
    assert [e["target_name"] for e in lines] == ["kb0", "kb1", "kb2", "kb3", "kb4", "kb0"]
    assert [e["id"] for e in lines] == sorted(e["id"] for e in lines)  # oldest first
    assert client.get("/v1/audit.jsonl", headers=h, params={"until": "bad"}).status_code == 400


FLOW = {"nodes": [{"id": "start", "type": "start", "inputs": [{"name": "q", "type": "string"}]},
                  {"id": "end", "type": "end", "outputs": {"text": "start.q"}}],
        "edges": [{"source": "start", "target": "end"}]}
AGENT = {"model": "nowhere/model", "tools": ["calculator"]}


def test_workflows_and_agents_are_recorded(client: TestClient, tenant_a: Tenant) -> None:
    h = tenant_a.headers
    client.app.state.api.runtime.workspace(tenant_a.workspace_id).add_provider(  # type: ignore[attr-defined]
        "nowhere", base_url="http://127.0.0.1:9/v1", models=["model"], max_retries=0)
    calls = [
        client.post("/v1/workflows", headers=h,
                    json={"name": "F", "slug": "f", "definition": FLOW}),
        client.patch("/v1/workflows/f", headers=h, json={"name": "Flow"}),
        client.post("/v1/workflows/f/publish", headers=h, json={}),
        client.delete("/v1/workflows/f", headers=h),
        client.post("/v1/agents", headers=h, json={"name": "A", "slug": "a", "config": AGENT}),
        client.patch("/v1/agents/a", headers=h, json={"config": AGENT}),
        client.post("/v1/agents/a/publish", headers=h, json={}),
        client.post("/v1/agents/a/rollback", headers=h, json={"version": 1}),
        client.delete("/v1/agents/a", headers=h),
        client.post("/v1/tool-sources", headers=h, json={
            "name": "pets", "kind": "openapi", "base_url": "http://127.0.0.1:9",
            "auth_headers": {"Authorization": "Bearer sk-tool"},
            "spec": {"openapi": "3.0.3", "info": {"title": "Pets", "version": "1"},
                     "paths": {"/pets": {"get": {"operationId": "listPets"}}}}}),
        client.delete("/v1/tool-sources/pets", headers=h),
    ]
    assert all(r.status_code < 300 for r in calls), [r.text for r in calls]
    entries = _entries(client, tenant_a)
    for action in ("workflow.create", "workflow.update", "workflow.publish", "workflow.delete",
                   "agent.create", "agent.update", "agent.publish", "agent.rollback",
                   "agent.delete", "tool_source.add", "tool_source.remove"):
        entry = _one(entries, action)
        assert entry["actor_name"] == "admin" and entry["address"] == ADDRESS, entry
        assert entry["target_name"] in ("f", "a", "pets"), entry
    assert _one(entries, "tool_source.add")["detail"]["sealed_fields"] == ["Authorization"]
    assert "sk-tool" not in json.dumps(entries)
    assert _one(entries, "provider.add")["actor_kind"] == "system"  # no request: the system
