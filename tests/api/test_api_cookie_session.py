"""The console's session: an HttpOnly, SameSite=Strict cookie with a CSRF token for requests
that change something; API keys and bearer session tokens work as before."""

from __future__ import annotations

from api_helpers import Tenant
from fastapi.testclient import TestClient

from zhiku.api.auth.cookies import CSRF_COOKIE, SESSION_COOKIE


def _login(client: TestClient, t: Tenant) -> str:
    r = client.post("/v1/auth/login", json={"email": t.email, "password": t.password,
                                            "cookie": True})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token"] is None and body["csrf_token"]
    cookies = r.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith(SESSION_COOKIE + "="))
    assert "HttpOnly" in session and "SameSite=strict" in session and "Path=/" in session
    csrf = next(c for c in cookies if c.startswith(CSRF_COOKIE + "="))
    assert "HttpOnly" not in csrf and body["csrf_token"] in csrf
    return str(body["csrf_token"])


def test_cookie_session_needs_the_csrf_header_to_change_things(
    client: TestClient, tenant_a: Tenant
) -> None:
    csrf = _login(client, tenant_a)
    me = client.get("/v1/auth/me")  # the client keeps the cookies
    assert me.status_code == 200 and me.json()["workspace"] == tenant_a.name
    r = client.post("/v1/kbs", json={"name": "hr"})
    assert r.status_code == 403 and "x-csrf-token" in r.json()["error"]["message"]
    r = client.post("/v1/kbs", json={"name": "hr"}, headers={"X-CSRF-Token": "0" * 64})
    assert r.status_code == 403
    r = client.post("/v1/kbs", json={"name": "hr"},
                    headers={"X-CSRF-Token": csrf, "Origin": "https://evil.example"})
    assert r.status_code == 403 and "cross-origin" in r.json()["error"]["message"]
    r = client.post("/v1/kbs", json={"name": "hr"},
                    headers={"X-CSRF-Token": csrf, "Origin": "http://testserver"})
    assert r.status_code == 201, r.text
    r = client.post("/v1/kbs", json={"name": "hr2"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201, r.text
    r = client.post("/v1/kbs", json={"name": "hr3"}, headers={
        "X-CSRF-Token": csrf, "Origin": "https://zhiku.example",
        "X-Forwarded-Host": "zhiku.example"})  # behind a reverse proxy
    assert r.status_code == 201, r.text

    out = client.post("/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 200
    cleared = out.headers.get_list("set-cookie")
    assert any(c.startswith(SESSION_COOKIE + '=""') or c.startswith(SESSION_COOKIE + "=;")
               or "Max-Age=0" in c for c in cleared)
    assert SESSION_COOKIE not in client.cookies
    assert client.get("/v1/auth/me").status_code == 401


def test_ended_cookie_session_is_refused(client: TestClient, tenant_a: Tenant) -> None:
    csrf = _login(client, tenant_a)
    token = client.cookies[SESSION_COOKIE]
    assert client.post("/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 200
    client.cookies.set(SESSION_COOKIE, token)  # replayed after logout
    assert client.get("/v1/auth/me").status_code == 401


def test_bearer_keys_and_tokens_need_no_csrf(client: TestClient, tenant_a: Tenant) -> None:
    assert client.post("/v1/kbs", headers=tenant_a.headers, json={"name": "a"}).status_code == 201
    r = client.post("/v1/auth/login", json={"email": tenant_a.email,
                                            "password": tenant_a.password})
    token = r.json()["token"]
    assert token and not r.headers.get_list("set-cookie")
    h = {"Authorization": f"Bearer {token}"}
    assert client.post("/v1/kbs", headers=h, json={"name": "b"}).status_code == 201
