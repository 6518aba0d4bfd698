"""The main flow through the real ASGI app in-process: upload → progress → search → chat with
citations → feedback → usage, plus the document, chunk and job endpoints around it."""

from __future__ import annotations

import json

import pytest
from api_helpers import HANDBOOK, ZH_POLICY, Tenant, parse_sse, wait_job
from fastapi.testclient import TestClient


def test_upload_search_chat_feedback_usage(client: TestClient, tenant_a: Tenant) -> None:
    h = tenant_a.headers
    assert client.post("/v1/kbs", headers=h, json={"name": "hr"}).status_code == 201
    r = client.post(
        "/v1/kbs/hr/documents", headers=h,
        files=[("files", ("handbook.md", HANDBOOK.encode(), "text/markdown")),
               ("files", ("报销.md", ZH_POLICY.encode(), "text/markdown"))],
        data={"metadata": json.dumps({"team": "people"}), "tags": "hr"},
    )
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["status"] in ("queued", "running", "done") and job["files_total"] == 2
    # progress by server-sent events, then by polling
    with client.stream("GET", f"/v1/jobs/{job['id']}/events", headers=h) as resp:
        body = "".join(resp.iter_text())
    events = parse_sse(body)
    assert events[-1][0] == "done"
    done = wait_job(client, h, job["id"])
    assert done["status"] == "done" and done["progress"] == 1.0
    assert {f["status"] for f in done["files"]} == {"added"}
    docs = client.get("/v1/kbs/hr/documents", headers=h).json()
    assert {d["status"] for d in docs} == {"ready"}
    assert all(d["tags"] == ["hr"] and d["metadata"]["team"] == "people" for d in docs)

    r = client.post("/v1/search", headers=h, json={"query": "paid annual leave", "top_k": 3})
    hits = r.json()["hits"]
    assert hits and hits[0]["source"] == "handbook.md" and hits[0]["kb"] == "hr"
    assert set(hits[0]["scores"]) >= {"keyword", "vector"}
    r = client.post("/v1/search", headers=h,
                    json={"query": "报销 发票", "filters": {"tags": ["hr"]}})
    assert r.json()["hits"][0]["source"] == "报销.md"

    r = client.post("/v1/assistants", headers=h,
                    json={"slug": "hr-bot", "config": {"knowledge_bases": ["hr"]}})
    assert r.status_code == 201
    assert client.post("/v1/assistants/hr-bot/publish", headers=h, json={"note": "v1"}).json()[
        "published_version"] == 1
    r = client.post("/v1/assistants/hr-bot/chat", headers=h,
                    json={"message": "How many days of paid annual leave do new employees get?"})
    chat = r.json()
    assert not chat["refused"] and "fifteen days" in chat["answer"]
    cite = chat["citations"][0]
    assert cite["source"] == "handbook.md" and cite["chunk_id"] and "fifteen" in cite["quote"]
    assert cite["location"] and cite["score"] > 0 and cite["document_id"]
    # streaming, in the same conversation
    with client.stream("POST", "/v1/assistants/hr-bot/chat", headers=h, json={
        "message": "What do expense claims need?", "stream": True,
        "conversation_id": chat["conversation_id"]}) as resp:
        assert resp.headers["content-type"].startswith("text/event-stream")
        events = parse_sse("".join(resp.iter_text()))
    kinds = [e for e, _ in events]
    assert kinds[0] == "token" and kinds[-3:] == ["citations", "usage", "done"]
    streamed = "".join(d["text"] for e, d in events if e == "token")  # type: ignore[index]
    assert "receipt" in streamed and events[-1][1]["answer"] == streamed  # type: ignore[index]
    msgs = client.get(f"/v1/conversations/{chat['conversation_id']}/messages", headers=h).json()
    assert [m["role"] for m in msgs] == ["user", "assistant", "user", "assistant"]
    assert msgs[1]["citations"][0]["source"] == "handbook.md"

    r = client.post(f"/v1/messages/{chat['message_id']}/feedback", headers=h, json={
        "rating": "down", "comment": "too short", "corrected_answer": "Fifteen days."})
    assert r.status_code == 201 and r.json()["rating"] == -1
    fb = client.get("/v1/feedback", headers=h).json()
    assert fb[0]["assistant"] == "hr-bot" and fb[0]["corrected_answer"] == "Fifteen days."

    usage = client.get("/v1/usage", headers=h, params={"group_by": "assistant"}).json()
    assert usage[0]["group"] == "hr-bot" and usage[0]["requests"] == 2
    assert usage[0]["input_tokens"] > 0 and usage[0]["output_tokens"] > 0
    by_day = client.get("/v1/usage", headers=h, params={"group_by": "day"}).json()
    assert by_day[0]["requests"] == 2


def test_documents_chunks_and_originals(client: TestClient, tenant_a: Tenant) -> None:
    h = tenant_a.headers
    client.post("/v1/kbs", headers=h, json={"name": "hr"})
    job = client.post("/v1/kbs/hr/documents", headers=h,
                      files=[("files", ("handbook.md", HANDBOOK.encode(), "text/markdown"))]).json()
    doc_id = wait_job(client, h, job["id"])["files"][0]["document_id"]
    r = client.get(f"/v1/kbs/hr/documents/{doc_id}/original", headers=h)
    assert r.content == HANDBOOK.encode() and "handbook.md" in r.headers["content-disposition"]

    r = client.patch(f"/v1/kbs/hr/documents/{doc_id}", headers=h,
                     json={"tags": ["archived"], "metadata": {"owner": "ops"}})
    assert r.json()["tags"] == ["archived"] and r.json()["metadata"]["owner"] == "ops"
    r = client.post("/v1/search", headers=h,
                    json={"query": "annual leave", "filters": {"tags": ["archived"]}})
    assert r.json()["hits"]

    chunks = client.get(f"/v1/kbs/hr/documents/{doc_id}/chunks", headers=h).json()
    leave = next(c for c in chunks if "annual leave" in c["text"])
    r = client.patch(f"/v1/kbs/hr/chunks/{leave['id']}", headers=h,
                     json={"text": "Interns receive zebra allowance vouchers."})
    assert r.json()["text"].startswith("Interns")
    hits = client.post("/v1/search", headers=h, json={"query": "zebra vouchers"}).json()["hits"]
    assert hits[0]["chunk_id"] == leave["id"]
    r = client.patch(f"/v1/kbs/hr/chunks/{leave['id']}", headers=h, json={"enabled": False})
    assert r.json()["enabled"] is False
    hits = client.post("/v1/search", headers=h, json={"query": "zebra vouchers"}).json()["hits"]
    assert all(hit["chunk_id"] != leave["id"] for hit in hits)
    jobs = client.get("/v1/kbs/hr/jobs", headers=h).json()
    assert {j["kind"] for j in jobs} >= {"ingest", "embed"}

    r = client.post(f"/v1/kbs/hr/documents/{doc_id}/reindex", headers=h)
    assert r.status_code == 202
    new = wait_job(client, h, r.json()["id"])
    assert new["status"] == "done" and new["files"][0]["status"] == "added"
    new_id = new["files"][0]["document_id"]
    texts = [c["text"] for c in client.get(f"/v1/kbs/hr/documents/{new_id}/chunks",
                                           headers=h).json()]
    assert any("annual leave" in t for t in texts)  # re-parsed from the stored original

    assert client.delete(f"/v1/kbs/hr/documents/{new_id}", headers=h).json() == {"deleted": True}
    assert client.get(f"/v1/kbs/hr/documents/{new_id}", headers=h).status_code == 404
    assert client.get("/v1/kbs/hr/documents", headers=h).json() == []


def test_bad_files_fail_per_file(client: TestClient, tenant_a: Tenant) -> None:
    h = tenant_a.headers
    client.post("/v1/kbs", headers=h, json={"name": "hr"})
    job = client.post("/v1/kbs/hr/documents", headers=h, files=[
        ("files", ("ok.md", HANDBOOK.encode(), "text/markdown")),
        ("files", ("broken.pdf", b"%PDF-1.4 not really", "application/pdf")),
    ]).json()
    done = wait_job(client, h, job["id"])
    status = {f["source"]: f["status"] for f in done["files"]}
    assert status == {"ok.md": "added", "broken.pdf": "failed"}
    errors = client.get("/v1/kbs/hr/documents", headers=h, params={"status": "error"}).json()
    assert {d["source"] for d in errors} == {"broken.pdf"}
    assert all(d["error"] for d in errors)


@pytest.mark.parametrize("name", ["../../etc/evil.exe", "bundle.zip", "README"])
def test_an_unsupported_type_refuses_the_upload_with_the_accepted_formats(
        client: TestClient, tenant_a: Tenant, name: str) -> None:
    """415 before anything is stored, naming the formats ``/v1/formats`` lists (the list the
    console offers and the CLI's parser reads)."""
    h = tenant_a.headers
    client.post("/v1/kbs", headers=h, json={"name": "hr"})
    r = client.post("/v1/kbs/hr/documents", headers=h, files=[
        ("files", ("ok.md", HANDBOOK.encode(), "text/markdown")),
        ("files", (name, b"PK\x03\x04 or MZ", "application/octet-stream")),
    ])
    assert r.status_code == 415, r.text
    error = r.json()["error"]
    accepted = client.get("/v1/formats", headers=h).json()["extensions"]
    assert error["type"] == "unsupported_format" and error["supported"] == accepted
    assert error["message"].endswith("accepted: " + ", ".join(f".{e}" for e in accepted))
    assert ".md" in error["message"] and ".pdf" in error["message"]
    assert client.get("/v1/kbs/hr/documents", headers=h).json() == []
    assert client.get("/v1/jobs", headers=h).json() == []
