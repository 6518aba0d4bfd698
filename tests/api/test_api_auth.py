"""Users, sessions, roles, keys (shown once, hashed, revocable, last use), limits, error format,
health, metrics and the restart that resumes unfinished jobs."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import pytest
from api_helpers import (
    HANDBOOK,
    Tenant,
    api_settings,
    database_text,
    join,
    make_tenant,
    wait_job,
)
from fastapi.testclient import TestClient

from hashing import CHEAP
from zhiku.accounts.store import AccountStore
from zhiku.api.app import create_app
from zhiku.core.errors import Conflict
from zhiku.core.settings import Settings
from zhiku.store.db import open_database


def test_login_roles_and_members(client: TestClient, tenant_a: Tenant) -> None:
    r = client.post("/v1/auth/login", json={"email": tenant_a.email, "password": "wrong"})
    assert r.status_code == 401 and r.json()["error"]["type"] == "unauthorized"
    r = client.post("/v1/auth/login", json={"email": tenant_a.email, "password": tenant_a.password})
    owner = {"Authorization": f"Bearer {r.json()['token']}"}
    me = client.get("/v1/auth/me", headers=owner).json()
    assert me["level"] == "owner" and me["workspace"] == "acme"
    eh = join(client, tenant_a, "ed@acme.example", "editor-password", "editor")["headers"]
    assert client.post("/v1/kbs", headers=eh, json={"name": "docs"}).status_code == 201
    assert client.get("/v1/keys", headers=eh).status_code == 403  # editors do not manage keys
    r = client.patch(f"/v1/users/{me['user_id']}", headers=owner, json={"role": "viewer"})
    assert r.status_code == 409  # the last owner stays
    uid = client.get("/v1/auth/me", headers=eh).json()["user_id"]
    assert client.patch(f"/v1/users/{uid}", headers=owner,
                        json={"role": "viewer"}).json()["role"] == "viewer"
    assert client.post("/v1/kbs", headers=eh, json={"name": "more"}).status_code == 403
    r = client.post("/v1/workspaces", headers=owner, json={"name": "second"})
    assert r.status_code == 201
    names = {w["name"] for w in client.get("/v1/workspaces", headers=owner).json()}
    assert names == {"acme", "second"}
    # with two workspaces, signing in without naming one asks to choose (the password first)
    body = {"email": tenant_a.email, "password": tenant_a.password}
    r = client.post("/v1/auth/login", json={**body, "password": "wrong-password"})
    assert r.status_code == 401 and "workspaces" not in r.json()["error"]
    r = client.post("/v1/auth/login", json=body)
    assert r.status_code == 409 and r.json()["error"]["type"] == "choose_workspace"
    assert r.json()["error"]["workspaces"] == ["acme", "second"]
    r = client.post("/v1/auth/login", json={**body, "workspace": "second"})
    second = {"Authorization": f"Bearer {r.json()['token']}"}
    assert client.get("/v1/auth/me", headers=second).json()["workspace"] == "second"
    assert client.post("/v1/auth/logout", headers=owner).status_code == 200
    assert client.get("/v1/auth/me", headers=owner).status_code == 401


def test_emails_are_unique_and_matched_without_regard_to_case(settings: Settings) -> None:
    db = open_database(settings)
    try:
        auth = AccountStore(db, CHEAP)
        user = auth.create_user("Mixed.Case@Example.org", "long-enough-pw")
        assert auth.user_id("mixed.case@example.ORG") == user
        with pytest.raises(Conflict):
            auth.create_user("MIXED.CASE@example.org", "long-enough-pw")
        workspace = auth.workspace_id("default") or auth.create_workspace("default")
        auth.set_role(user, workspace, "viewer")
        token = auth.login("mixed.CASE@example.org", "long-enough-pw", None, hours=1.0)
        assert auth.authenticate(token).user_id == user
    finally:
        db.close()


def test_keys_are_shown_once_hashed_and_revocable(
    client: TestClient, tenant_a: Tenant, settings: Settings
) -> None:
    h = tenant_a.headers
    r = client.post("/v1/keys", headers=h, json={"name": "ci", "access": "read_write"})
    new = r.json()
    secret = new.pop("key")
    assert secret.startswith(f"zk_{new['prefix']}_")
    listed = client.get("/v1/keys", headers=h).json()
    assert secret not in json.dumps(listed)
    db = open_database(settings, migrate=False)
    try:
        stored = db.conn.execute(
            "SELECT key_hash FROM api_keys WHERE id = ?", (new["id"],)
        ).fetchone()
    finally:
        db.close()
    assert stored[0] == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in database_text(settings)
    kh = {"Authorization": f"Bearer {secret}"}
    assert client.get(f"/v1/keys/{new['id']}", headers=h).json()["last_used_at"] is None
    assert client.get("/v1/kbs", headers=kh).status_code == 200
    assert client.get(f"/v1/keys/{new['id']}", headers=h).json()["last_used_at"]
    assert client.delete(f"/v1/keys/{new['id']}", headers=h).json()["revoked_at"]
    r = client.get("/v1/kbs", headers=kh)
    assert r.status_code == 401 and "revoked" in r.json()["error"]["message"]
    read = client.post("/v1/keys", headers=h, json={"access": "read"}).json()["key"]
    r = client.post("/v1/keys", headers={"Authorization": f"Bearer {read}"}, json={})
    assert r.status_code == 403


def test_limits_and_error_format(zhiku_home: Path) -> None:
    settings = api_settings(zhiku_home, api_rate_limit_per_minute=5,
                            api_max_request_bytes=2048, api_max_upload_bytes=4096)
    with TestClient(create_app(settings)) as client:
        t = make_tenant(settings, "acme")
        h = t.headers
        r = client.post("/v1/search", headers=h, content=b"x" * 5000,
                        )
        assert r.status_code == 413 and r.json()["error"]["type"] == "payload_too_large"
        r = client.post("/v1/kbs/x/documents", headers=h,
                        files=[("files", ("a.txt", b"a" * 10_000, "text/plain"))])
        assert r.status_code == 413
        r = client.post("/v1/kbs", headers=h, json={"name": "a", "bogus": 1})
        assert r.status_code == 422 and r.json()["error"]["type"] == "invalid_request"
        codes = [client.get("/v1/kbs", headers=h).status_code for _ in range(8)]
        assert 429 in codes
        r = client.get("/v1/kbs", headers=h)
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        assert r.json()["error"]["type"] == "rate_limited"
        assert client.get("/nowhere").json()["error"]["type"] == "not_found"


def test_health_metrics_docs(client: TestClient, tenant_a: Tenant) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}
    client.get("/v1/kbs", headers=tenant_a.headers)
    assert client.get("/metrics").status_code == 401
    text = client.get("/metrics", headers=tenant_a.headers).text
    assert 'zhiku_http_requests_total{endpoint="list_kbs",method="GET",status="200"}' in text
    assert "zhiku_jobs" in text and "acme" not in text
    assert client.get("/openapi.json").json()["info"]["title"] == "Zhiku API"
    assert client.get("/docs").status_code == 200


def test_restart_resumes_unfinished_jobs(zhiku_home: Path) -> None:
    settings = api_settings(zhiku_home)
    with TestClient(create_app(settings, worker=False)) as client:
        t = make_tenant(settings, "acme")
        client.post("/v1/kbs", headers=t.headers, json={"name": "hr"})
        queued = client.post("/v1/kbs/hr/documents", headers=t.headers, files=[
            ("files", ("handbook.md", HANDBOOK.encode(), "text/markdown"))]).json()
        assert queued["status"] == "queued"
    db = open_database(settings, migrate=False)  # a job a killed process had claimed
    try:
        with db.write() as conn:
            row = conn.execute("SELECT payload FROM jobs WHERE id = ?", (queued["id"],)).fetchone()
            payload = row[0] if isinstance(row[0], dict) else json.loads(row[0])
            conn.execute("UPDATE jobs SET status = 'running', payload = ? WHERE id = ?",
                         (json.dumps({**payload, "owner": "elsewhere:1"}), queued["id"]))
    finally:
        db.close()
    with TestClient(create_app(settings)) as client:
        done = wait_job(client, t.headers, queued["id"])
        assert done["status"] == "done" and done["files"][0]["status"] == "added"
        hits = client.post("/v1/search", headers=t.headers, json={"query": "annual leave"})
        assert hits.json()["hits"]
    time.sleep(0)
