"""A conversation's messages carry the latest rating of each answer, so a reopened conversation
shows the feedback already given; questions and unrated answers carry none."""

from __future__ import annotations

from api_helpers import HANDBOOK, Tenant, wait_job
from fastapi.testclient import TestClient

LEAVE = "How many days of paid annual leave do new employees get?"


def test_messages_carry_their_latest_rating(client: TestClient, tenant_a: Tenant) -> None:
    h = tenant_a.headers
    assert client.post("/v1/kbs", headers=h, json={"name": "hr"}).status_code == 201
    r = client.post("/v1/kbs/hr/documents", headers=h,
                    files=[("files", ("handbook.md", HANDBOOK.encode(), "text/markdown"))])
    assert wait_job(client, h, r.json()["id"])["status"] == "done"
    made = client.post("/v1/assistants", headers=h,
                       json={"slug": "bot", "config": {"knowledge_bases": ["hr"]}})
    assert made.status_code == 201, made.text
    first = client.post("/v1/assistants/bot/chat", headers=h, json={"message": LEAVE}).json()
    cid = first["conversation_id"]
    second = client.post("/v1/assistants/bot/chat", headers=h,
                         json={"message": LEAVE, "conversation_id": cid}).json()
    for rating in ("up", "down"):  # the latest one counts
        done = client.post(f"/v1/messages/{first['message_id']}/feedback", headers=h,
                           json={"rating": rating})
        assert done.status_code == 201, done.text
    messages = client.get(f"/v1/conversations/{cid}/messages", headers=h).json()
    by_id = {m["id"]: m["feedback"] for m in messages}
    assert by_id[first["message_id"]] == "down"
    assert by_id[second["message_id"]] is None
    assert [m["feedback"] for m in messages if m["role"] == "user"] == [None, None]
