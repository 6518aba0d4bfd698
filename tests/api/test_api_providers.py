"""Model providers over HTTP, in a workspace made by ``zhiku admin init --workspace``: add from
a preset with a key that no answer (nor the log) ever shows, test against the scripted
OpenAI-compatible server (latency; a 401 as the provider's exact message, key masked), the
default chat model new assistants take, the picker's list, presets; readers list, only admins
change; another workspace never sees or uses them."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from api_helpers import HANDBOOK, Tenant, api_settings, make_tenant, wait_job
from fastapi.testclient import TestClient

from scripted_llm import Script
from zhiku.core.settings import Settings

KEY = "sk-live-0123456789abcdef-TOPSECRET"


@pytest.fixture
def settings(zhiku_home: Path, scripted: Any) -> Settings:
    """The scripted server's address and 127.0.0.1:9 (nobody listens) are allowed; other
    internal addresses are not."""
    port = scripted.url.split(":")[2].split("/")[0]
    return api_settings(zhiku_home, api_url_allowlist=[f"127.0.0.1:{port}", "127.0.0.1:9"])


@pytest.fixture
def demo(settings: Settings, client: TestClient) -> Tenant:
    """A workspace that is not ``default``, as ``zhiku admin init --workspace 智库演示`` makes."""
    return make_tenant(settings, "智库演示")


def _reader(client: TestClient, t: Tenant) -> dict[str, str]:
    r = client.post("/v1/keys", headers=t.headers, json={"name": "reader", "access": "read"})
    return {"Authorization": f"Bearer {r.json()['key']}"}


def test_add_test_default_and_use_in_a_new_workspace(
    client: TestClient, demo: Tenant, scripted: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    h = demo.headers
    r = client.post("/v1/providers", headers=h, json={
        "name": "ds", "preset": "deepseek", "base_url": scripted.url, "api_key": KEY,
        "max_retries": 0})
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["has_key"] is True and made["key_mask"] == "…CRET"
    assert made["models"] == ["deepseek-chat", "deepseek-reasoner"] and made["kind"] == "openai"
    assert made["api_key_env"] is None
    seen = [client.get("/v1/providers", headers=h), client.get("/v1/providers/ds", headers=h),
            client.get("/v1/provider-models", headers=h)]
    assert all(s.status_code == 200 and KEY not in s.text and "api_key\"" not in s.text
               for s in seen)
    assert [m["id"] for m in seen[2].json()] == [
        "extractive", "ds/deepseek-chat", "ds/deepseek-reasoner"]

    scripted.push(Script(text="pong"))
    ok = client.post("/v1/providers/ds/test", headers=h, json={}).json()
    assert ok["ok"] and ok["latency_ms"] > 0 and ok["reply"] == "pong", ok
    assert scripted.headers[-1]["Authorization"] == f"Bearer {KEY}"
    body = json.dumps({"error": {"message": f"Authentication Fails, your key {KEY} is invalid"}})
    scripted.push(Script(status=401, body=body))
    bad = client.post("/v1/providers/ds/test", headers=h, json={"model": "deepseek-reasoner"})
    failed = bad.json()
    assert bad.status_code == 200 and failed["ok"] is False and failed["kind"] == "provider_auth"
    assert "HTTP 401" in failed["error"] and "Authentication Fails" in failed["error"]
    assert KEY not in bad.text

    # the default chat model, taken by an assistant that names none
    r = client.put("/v1/workspace/default-model", headers=h, json={"model": "ds/deepseek-chat"})
    assert r.status_code == 200 and r.json() == {"model": "ds/deepseek-chat"}
    assert client.get("/v1/workspace/default-model", headers=h).json()["model"] == (
        "ds/deepseek-chat")
    client.post("/v1/kbs", headers=h, json={"name": "hr"})
    job = client.post("/v1/kbs/hr/documents", headers=h,
                      files=[("files", ("handbook.md", HANDBOOK.encode(), "text/markdown"))])
    assert wait_job(client, h, job.json()["id"])["status"] == "done"
    bot = client.post("/v1/assistants", headers=h,
                      json={"slug": "bot", "config": {"knowledge_bases": ["hr"]}}).json()
    assert bot["config"]["model"] == "ds/deepseek-chat"
    plain = client.post("/v1/assistants", headers=h, json={
        "slug": "plain", "config": {"knowledge_bases": ["hr"], "model": None}}).json()
    assert plain["config"]["model"] is None
    scripted.push(Script(text="Fifteen days [1]."))
    chat = client.post("/v1/assistants/bot/chat", headers=h,
                       json={"message": "How many days of paid annual leave?"})
    assert chat.status_code == 200, chat.text
    assert scripted.requests[-1]["model"] == "deepseek-chat"
    assert KEY not in caplog.text


def test_update_keeps_the_key_and_delete_removes_it(client: TestClient, demo: Tenant) -> None:
    h = demo.headers
    client.post("/v1/providers", headers=h, json={
        "name": "p", "base_url": "http://127.0.0.1:9/v1", "models": ["a"], "api_key": KEY})
    r = client.patch("/v1/providers/p", headers=h, json={"models": ["a", "b"], "timeout": 5})
    assert r.status_code == 200 and r.json()["has_key"] and r.json()["models"] == ["a", "b"]
    r = client.patch("/v1/providers/p", headers=h, json={"clear_key": True})
    assert r.json()["has_key"] is False and r.json()["key_mask"] is None
    client.put("/v1/workspace/default-model", headers=h, json={"model": "p/b"})
    assert client.delete("/v1/providers/p", headers=h).status_code == 200
    assert client.get("/v1/providers/p", headers=h).status_code == 404
    assert client.get("/v1/workspace/default-model", headers=h).json()["model"] is None


def test_errors_and_what_http_refuses(client: TestClient, demo: Tenant) -> None:
    h = demo.headers
    base = {"base_url": "http://127.0.0.1:9/v1", "models": ["m"]}
    assert client.post("/v1/providers", headers=h, json={"name": "x", **base}).status_code == 201
    dup = client.post("/v1/providers", headers=h, json={"name": "x", **base})
    assert dup.status_code == 409 and dup.json()["error"]["type"] == "conflict"
    for bad in ({"name": "e", "api_key_env": "ZHIKU_DATABASE_URL", **base},  # server secrets
                {"name": "l", "kind": "llama-cpp", "model_path": "/etc/passwd"},  # server files
                {"name": "bad name", **base}):
        assert client.post("/v1/providers", headers=h, json=bad).status_code == 422, bad
    # null is "not sent": the default (or the preset's value) stays
    r = client.post("/v1/providers", headers=h, json={
        **base, "name": "nul", "kind": None, "rerank_protocol": None, "models": None})
    assert r.status_code == 201 and r.json()["kind"] == "openai", r.text
    assert r.json()["models"] == [] and r.json()["rerank_protocol"] == "documents"
    r = client.post("/v1/providers", headers=h, json={"name": "q", "preset": "nope"})
    assert r.status_code == 400 and "unknown preset" in r.json()["error"]["message"]
    r = client.put("/v1/workspace/default-model", headers=h, json={"model": "missing/m"})
    assert r.status_code == 404
    client.post("/v1/providers", headers=h, json={"name": "rr", "preset": "vllm-rerank",
                                                  "base_url": "http://127.0.0.1:9/v1"})
    r = client.put("/v1/workspace/default-model", headers=h, json={"model": "rr"})
    assert r.status_code == 400 and "not a chat model" in r.json()["error"]["message"]
    picks = client.get("/v1/provider-models?kind=rerank", headers=h).json()
    assert [p["id"] for p in picks] == ["rr/BAAI/bge-reranker-v2-m3"]


def test_a_preset_over_http_never_uses_the_servers_key(
    client: TestClient, demo: Tenant, scripted: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server's DEEPSEEK_API_KEY (an operator's) is not lent to a workspace's provider."""
    monkeypatch.setenv("DEEPSEEK_API_KEY", "sk-operator-000000000000-SERVER")
    r = client.post("/v1/providers", headers=demo.headers, json={
        "name": "ds", "preset": "deepseek", "base_url": scripted.url})
    assert r.status_code == 201 and r.json()["api_key_env"] is None and not r.json()["has_key"]
    scripted.push(Script(text="pong"))
    assert client.post("/v1/providers/ds/test", headers=demo.headers, json={}).json()["ok"]
    assert "Authorization" not in scripted.headers[-1]


def test_internal_base_urls_need_the_operators_allow_list(client: TestClient,
                                                         demo: Tenant) -> None:
    h = demo.headers
    for url in ("http://127.0.0.1:8000/v1", "http://169.254.169.254/latest",
                "http://10.0.0.7/v1", "http://[::1]:11434/v1"):
        r = client.post("/v1/providers", headers=h, json={"name": "x", "base_url": url})
        assert r.status_code == 400, (url, r.text)
        assert "ZHIKU_API_URL_ALLOWLIST" in r.json()["error"]["message"]
    # a preset's local default too (Ollama on 127.0.0.1:11434)
    r = client.post("/v1/providers", headers=h, json={"name": "o", "preset": "ollama"})
    assert r.status_code == 400 and "internal address" in r.json()["error"]["message"]
    for url in ("ftp://example.com/v1", "http://user:pw@127.0.0.1:9/v1"):
        r = client.post("/v1/providers", headers=h, json={"name": "x", "base_url": url})
        assert r.status_code == 400, (url, r.text)
    assert client.post("/v1/providers", headers=h, json={
        "name": "ok", "base_url": "http://127.0.0.1:9/v1"}).status_code == 201
    r = client.patch("/v1/providers/ok", headers=h, json={"base_url": "http://127.0.0.1:22/"})
    assert r.status_code == 400 and client.get("/v1/providers/ok", headers=h).json()[
        "base_url"] == "http://127.0.0.1:9/v1"


def test_readers_list_admins_change(client: TestClient, demo: Tenant) -> None:
    h = demo.headers
    client.post("/v1/providers", headers=h, json={
        "name": "p", "base_url": "http://127.0.0.1:9/v1", "models": ["a"], "api_key": KEY})
    reader = _reader(client, demo)
    listed = client.get("/v1/providers", headers=reader)
    assert listed.status_code == 200 and listed.json()[0]["has_key"] and KEY not in listed.text
    presets = client.get("/v1/provider-presets", headers=reader).json()
    assert {"deepseek", "qwen", "doubao", "moonshot", "zhipu", "siliconflow", "openai",
            "ollama", "vllm", "llamacpp"} <= {p["name"] for p in presets}
    for method, url, body in (("POST", "/v1/providers", {"name": "z", "base_url": "http://x"}),
                              ("PATCH", "/v1/providers/p", {"timeout": 3}),
                              ("DELETE", "/v1/providers/p", None),
                              ("POST", "/v1/providers/p/test", {}),
                              ("PUT", "/v1/workspace/default-model", {"model": "p/a"})):
        r = client.request(method, url, headers=reader, json=body)
        assert r.status_code == 403, (method, url, r.text)


def test_another_workspace_never_sees_or_uses_them(
    client: TestClient, demo: Tenant, settings: Settings
) -> None:
    other = make_tenant(settings, "globex")
    client.post("/v1/providers", headers=demo.headers, json={
        "name": "secret-llm", "base_url": "http://127.0.0.1:9/v1", "models": ["m"],
        "api_key": KEY})
    g = other.headers
    assert client.get("/v1/providers", headers=g).json() == []
    for method, url, body in (("GET", "/v1/providers/secret-llm", None),
                              ("PATCH", "/v1/providers/secret-llm", {"timeout": 3}),
                              ("DELETE", "/v1/providers/secret-llm", None),
                              ("POST", "/v1/providers/secret-llm/test", {})):
        r = client.request(method, url, headers=g, json=body)
        assert r.status_code == 404, (method, url, r.text)
    assert [m["id"] for m in client.get("/v1/provider-models", headers=g).json()] == [
        "extractive"]
    r = client.put("/v1/workspace/default-model", headers=g, json={"model": "secret-llm/m"})
    assert r.status_code == 404
    client.post("/v1/kbs", headers=g, json={"name": "kb"})
    r = client.post("/v1/assistants", headers=g, json={
        "slug": "thief", "config": {"knowledge_bases": ["kb"], "model": "secret-llm/m"}})
    assert r.status_code == 400 and "does not exist" in r.json()["error"]["message"]
    r = client.post("/v1/kbs", headers=g, json={"name": "kb2", "embedder": "provider:secret-llm/m"})
    assert r.status_code == 404 and "does not exist" in r.json()["error"]["message"]
    assert client.get("/v1/providers/secret-llm", headers=demo.headers).status_code == 200
