"""Moderation over HTTP: an admin's policy per workspace, a dry run, the log of hits, and the
chat API (JSON and SSE) and the OpenAI-compatible endpoint applying it."""

from __future__ import annotations

from api_helpers import HANDBOOK, Tenant, wait_job
from fastapi.testclient import TestClient

QUESTION = "How many days of paid annual leave do new employees get?"
REPLY = "This cannot be answered here."


def _kb_and_bot(client: TestClient, t: Tenant) -> None:
    h = t.headers
    assert client.post("/v1/kbs", headers=h, json={"name": "hr"}).status_code == 201
    job = client.post("/v1/kbs/hr/documents", headers=h, files=[
        ("files", ("handbook.md", HANDBOOK.encode(), "text/markdown"))]).json()
    assert wait_job(client, h, job["id"])["status"] == "done"
    r = client.post("/v1/assistants", headers=h, json={"slug": "bot", "config": {
        "knowledge_bases": ["hr"], "retrieval": {"min_relevance": 0.1}}})
    assert r.status_code == 201, r.text


def test_the_policy_is_an_admins_and_its_workspaces_own(
        client: TestClient, tenant_a: Tenant, tenant_b: Tenant) -> None:
    h = tenant_a.headers
    assert client.get("/v1/moderation", headers=h).json()["configured"] is False
    policy = {"words": [{"word": "fifteen", "action": "mask", "scope": "output"},
                        {"word": "salary", "action": "block", "scope": "input"}],
              "block_reply": REPLY}
    put = client.put("/v1/moderation", headers=h, json=policy)
    assert put.status_code == 200 and put.json()["configured"] is True
    got = client.get("/v1/moderation", headers=h).json()
    assert [w["word"] for w in got["policy"]["words"]] == ["fifteen", "salary"]
    assert client.get("/v1/moderation", headers=tenant_b.headers).json()["configured"] is False
    writer = client.post("/v1/keys", headers=h, json={"name": "w", "access": "read_write"})
    wh = {"Authorization": f"Bearer {writer.json()['key']}"}
    assert client.put("/v1/moderation", headers=wh, json=policy).status_code == 403
    assert client.get("/v1/moderation/hits", headers=wh).status_code == 403
    bad = client.put("/v1/moderation", headers=h, json={"words": [{"word": "  "}]})
    assert bad.status_code == 422
    dry = client.post("/v1/moderation/test", headers=h, json={"text": "salary of fifteen"})
    assert dry.json()["input"]["blocked"] is True
    assert dry.json()["output"] == {"blocked": False, "text": "salary of *******",
                                    "words": ["fifteen"]}
    assert client.get("/v1/moderation/hits", headers=h).json() == []  # a dry run logs nothing
    assert client.delete("/v1/moderation", headers=h).json() == {"deleted": True}
    assert client.get("/v1/moderation", headers=h).json()["configured"] is False


def test_chat_and_the_openai_endpoint_apply_the_policy(
        client: TestClient, tenant_a: Tenant) -> None:
    h = tenant_a.headers
    _kb_and_bot(client, tenant_a)
    client.put("/v1/moderation", headers=h, json={"block_reply": REPLY, "words": [
        {"word": "fifteen", "action": "mask", "scope": "output"},
        {"word": "salary", "action": "block", "scope": "input"}]})
    plain = client.post("/v1/assistants/bot/chat", headers=h, json={"message": QUESTION})
    body = plain.json()
    assert "fifteen" not in plain.text and "*******" in body["answer"]
    assert body["moderated"] is False and not body["refused"]
    with client.stream("POST", "/v1/assistants/bot/chat", headers=h,
                       json={"message": QUESTION, "stream": True}) as resp:
        raw = "".join(resp.iter_text())
    assert "fifteen" not in raw and "*******" in raw
    blocked = client.post("/v1/assistants/bot/chat", headers=h,
                          json={"message": "What is the CEO's salary?"}).json()
    assert blocked["answer"] == REPLY and blocked["moderated"] and blocked["refused"]
    completion = client.post("/v1/chat/completions", headers=h, json={
        "model": "bot", "messages": [{"role": "user", "content": "salary bands?"}]}).json()
    assert completion["choices"][0]["message"]["content"] == REPLY
    assert completion["moderated"] is True
    with client.stream("POST", "/v1/chat/completions", headers=h, json={
            "model": "bot", "stream": True,
            "messages": [{"role": "user", "content": QUESTION}]}) as resp:
        chunks = "".join(resp.iter_text())
    assert "fifteen" not in chunks and "*******" in chunks
    hits = client.get("/v1/moderation/hits", headers=h).json()
    assert [(x["direction"], x["action"], x["app"]) for x in hits][:2] == [
        ("output", "mask", "bot"), ("input", "block", "bot")]
    assert {x["channel"] for x in hits} >= {"chat", "openai"}
    older = client.get(f"/v1/moderation/hits?before={hits[1]['id']}&limit=1", headers=h).json()
    assert [x["id"] for x in older] == [hits[2]["id"]]
