"""Names people give knowledge bases, assistants and workspaces refuse control characters."""

from __future__ import annotations

from api_helpers import Tenant
from fastapi.testclient import TestClient


def test_names_refuse_control_characters(client: TestClient, tenant_a: Tenant) -> None:
    h = tenant_a.headers
    r = client.post("/v1/auth/login", json={"email": tenant_a.email,
                                            "password": tenant_a.password})
    user = {"Authorization": f"Bearer {r.json()['token']}"}
    for bad in ("evil\nname", "tab\there", "nul\x00", "esc\x1b[31m", "rtl\u202egpj.exe",
                "del\x7f", "line\u2028sep"):
        r = client.post("/v1/kbs", headers=h, json={"name": bad})
        assert r.status_code == 422 and "control characters" in r.text, (bad, r.text)
        r = client.post("/v1/assistants", headers=h, json={
            "slug": "bot", "name": bad, "config": {"knowledge_bases": ["kb"]}})
        assert r.status_code == 422 and "control characters" in r.text, (bad, r.text)
        r = client.post("/v1/workspaces", headers=user, json={"name": bad})
        assert r.status_code == 422 and "control characters" in r.text, (bad, r.text)
    assert client.post("/v1/kbs", headers=h, json={"name": "人事 制度-2024"}).status_code == 201
    r = client.post("/v1/assistants", headers=h, json={
        "slug": "bot", "name": "HR 助手 🤖", "config": {"knowledge_bases": ["人事 制度-2024"]}})
    assert r.status_code == 201, r.text
    r = client.patch("/v1/assistants/bot", headers=h, json={"name": "a\rb"})
    assert r.status_code == 422
