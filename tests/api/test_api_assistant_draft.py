"""Draft vs live: the preview chats with the draft, the assistant says when its draft has
unpublished changes, and the diff between versions, the draft and the live one."""

from __future__ import annotations

from api_helpers import HANDBOOK, Tenant, wait_job
from fastapi.testclient import TestClient

QUESTION = "When do leave requests for interns go to the line manager?"


def _assistant(client: TestClient, t: Tenant) -> None:
    h = t.headers
    client.post("/v1/kbs", headers=h, json={"name": "hr"})
    r = client.post("/v1/kbs/hr/documents", headers=h,
                    files=[("files", ("handbook.md", HANDBOOK.encode(), "text/markdown"))])
    assert wait_job(client, h, r.json()["id"])["status"] == "done"
    r = client.post("/v1/assistants", headers=h, json={
        "slug": "hr-bot", "config": {"knowledge_bases": ["hr"]}})
    assert r.status_code == 201, r.text


def test_preview_uses_the_draft_after_a_publish(client: TestClient, tenant_a: Tenant) -> None:
    h = tenant_a.headers
    _assistant(client, tenant_a)
    assert client.get("/v1/assistants/hr-bot", headers=h).json()["unpublished_changes"] is False
    client.post("/v1/assistants/hr-bot/publish", headers=h, json={})
    live = client.get("/v1/assistants/hr-bot", headers=h).json()
    config = live["config"]
    config["retrieval"]["min_relevance"] = 0.99
    r = client.patch("/v1/assistants/hr-bot", headers=h, json={"config": config})
    assert r.json()["unpublished_changes"] is True

    answered = client.post("/v1/assistants/hr-bot/chat", headers=h, json={"message": QUESTION})
    assert answered.json()["refused"] is False  # chats use the published version
    preview = client.post("/v1/assistants/hr-bot/chat", headers=h,
                          json={"message": QUESTION, "draft": True})
    assert preview.status_code == 200
    assert preview.json()["refused"] is True  # the draft's 0.99 threshold
    stored = client.get(f"/v1/conversations/{preview.json()['conversation_id']}/messages",
                        headers=h).json()
    assert stored[-1]["metadata"]["draft"] is True
    assert stored[-1]["metadata"]["assistant_version"] is None

    streamed = client.post("/v1/assistants/hr-bot/chat", headers=h,
                           json={"message": QUESTION, "draft": True, "stream": True})
    assert '"refused": true' in streamed.text

    key = client.post("/v1/keys", headers=h, json={"name": "r", "access": "read"}).json()["key"]
    reader = {"Authorization": f"Bearer {key}"}
    assert client.post("/v1/assistants/hr-bot/chat", headers=reader,
                       json={"message": QUESTION, "draft": True}).status_code == 403
    assert client.post("/v1/assistants/hr-bot/chat", headers=reader,
                       json={"message": QUESTION}).status_code == 200

    client.post("/v1/assistants/hr-bot/publish", headers=h, json={})
    assert client.get("/v1/assistants/hr-bot", headers=h).json()["unpublished_changes"] is False


def test_diff_between_versions_draft_and_live(client: TestClient, tenant_a: Tenant) -> None:
    h = tenant_a.headers
    _assistant(client, tenant_a)
    assert client.get("/v1/assistants/hr-bot/diff", headers=h).json() == {
        "from": "live", "to": "draft", "changes": []}
    client.post("/v1/assistants/hr-bot/publish", headers=h, json={})
    config = client.get("/v1/assistants/hr-bot", headers=h).json()["config"]
    config["retrieval"]["min_relevance"] = 0.99
    config["refusal_message"] = "不知道"
    client.patch("/v1/assistants/hr-bot", headers=h, json={"config": config})
    changes = client.get("/v1/assistants/hr-bot/diff", headers=h).json()["changes"]
    assert changes == [
        {"path": "retrieval.min_relevance", "before": 0.3, "after": 0.99},
        {"path": "refusal_message", "before": None, "after": "不知道"},
    ]
    client.post("/v1/assistants/hr-bot/publish", headers=h, json={})
    back = client.get("/v1/assistants/hr-bot/diff?from=v2&to=1", headers=h).json()
    assert back["from"] == "v2" and back["to"] == "1"
    assert {c["path"]: c["after"] for c in back["changes"]} == {
        "retrieval.min_relevance": 0.3, "refusal_message": None}
    assert client.get("/v1/assistants/hr-bot/diff?from=1&to=live",
                      headers=h).json()["changes"][0]["after"] == 0.99
    assert client.get("/v1/assistants/hr-bot/diff?from=9", headers=h).status_code == 404
    assert client.get("/v1/assistants/hr-bot/diff?from=latest", headers=h).status_code == 400
    assert client.get("/v1/assistants/nobody/diff", headers=h).status_code == 404
