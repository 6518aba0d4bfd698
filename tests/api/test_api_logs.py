"""The conversation log over HTTP: every channel (chat, OpenAI-compatible), filters, paging,
one conversation's turns, corrections searchable at once, refused questions grouped, eval sets
from logged turns and from uploaded tables; admins only, scoped keys see their assistants."""

from __future__ import annotations

import io
from typing import Any

import pytest
from api_helpers import Tenant, api_settings, make_tenant, wait_job
from fastapi.testclient import TestClient
from openpyxl import Workbook

from zhiku.api.app import create_app
from zhiku.core.settings import Settings

Headers = dict[str, str]
LEAVE_DOC = "# 年假\n\n新员工入职第一年享有 5 天带薪年假。年假需提前两周向主管申请。\n"
ANSWERED = "新员工有几天年假？"
REFUSED = "公司有没有远程办公政策？"


def _setup(client: TestClient, h: Headers) -> None:
    assert client.post("/v1/kbs", headers=h, json={"name": "hr"}).status_code == 201
    r = client.post("/v1/kbs/hr/documents", headers=h,
                    files=[("files", ("leave.md", LEAVE_DOC.encode(), "text/markdown"))])
    job = wait_job(client, h, r.json()["id"])
    assert job["status"] == "done", job
    r = client.post("/v1/assistants", headers=h, json={
        "slug": "hr", "config": {"knowledge_bases": ["hr"],
                                 "retrieval": {"min_relevance": 0.3}}})
    assert r.status_code == 201, r.text


def _chat(client: TestClient, h: Headers, message: str) -> dict[str, Any]:
    r = client.post("/v1/assistants/hr/chat", headers=h, json={"message": message})
    assert r.status_code == 200, r.text
    return dict(r.json())


def _openai(client: TestClient, h: Headers, message: str) -> None:
    r = client.post("/v1/chat/completions", headers=h,
                    json={"model": "hr", "messages": [{"role": "user", "content": message}]})
    assert r.status_code == 200, r.text


@pytest.fixture
def world(client: TestClient, tenant_a: Tenant, tenant_b: Tenant) -> dict[str, Any]:
    a = tenant_a.headers
    _setup(client, a)
    _setup(client, tenant_b.headers)
    answered = _chat(client, a, ANSWERED)
    refused = _chat(client, a, REFUSED)
    _openai(client, a, REFUSED + "？")
    _chat(client, tenant_b.headers, "tenant b secret question")
    return {"client": client, "a": a, "b": tenant_b.headers, "answered": answered,
            "refused": refused}


def _page(client: TestClient, h: Headers, query: str = "") -> dict[str, Any]:
    r = client.get(f"/v1/logs/conversations{query}", headers=h)
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_log_filters_and_pages(world: dict[str, Any]) -> None:
    client, a = world["client"], world["a"]
    page = _page(client, a)
    assert page["total"] == 3
    rows = page["conversations"]
    assert [r["channel"] for r in rows] == ["openai", "chat", "chat"]  # newest first
    assert all(r["assistant"] == "hr" for r in rows)
    assert rows[2]["first_question"] == ANSWERED and rows[2]["refused"] == 0
    assert "tenant b" not in str(rows)  # another workspace's conversations never show
    assert _page(client, a, "?channel=openai")["total"] == 1
    assert _page(client, a, "?refused=true")["total"] == 2
    assert _page(client, a, "?q=年假")["total"] == 1
    assert _page(client, a, "?assistant=hr&since=2000-01-01&until=2999-12-31")["total"] == 3
    assert _page(client, a, "?since=2999-01-01")["total"] == 0
    assert _page(client, a, "?no_citation=true")["total"] == 0
    assert _page(client, a, "?thumbs_down=true")["total"] == 0
    mid = world["answered"]["message_id"]
    r = client.post(f"/v1/messages/{mid}/feedback", headers=a, json={"rating": "down"})
    assert r.status_code == 201
    down = _page(client, a, "?thumbs_down=true")
    assert down["total"] == 1 and down["conversations"][0]["thumbs_down"] == 1
    first = _page(client, a, "?limit=2")
    rest = _page(client, a, "?limit=2&offset=2")
    assert len(first["conversations"]) == 2 and len(rest["conversations"]) == 1
    assert client.get("/v1/logs/conversations?limit=0", headers=a).status_code == 422
    assert client.get("/v1/logs/conversations?channel=Bad!", headers=a).status_code == 400
    assert client.get("/v1/logs/conversations?since=yesterday", headers=a).status_code == 422
    assert client.get("/v1/logs/conversations?assistant=nope", headers=a).status_code == 404


def test_one_conversation_with_turns(world: dict[str, Any]) -> None:
    client, a = world["client"], world["a"]
    cid = world["answered"]["conversation_id"]
    r = client.get(f"/v1/logs/conversations/{cid}", headers=a)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["conversation"]["id"] == cid and body["conversation"]["channel"] == "chat"
    [turn] = body["turns"]
    assert turn["question"] == ANSWERED and turn["citations"][0]["source"] == "leave.md"
    assert turn["message_id"] == world["answered"]["message_id"] and turn["rating"] is None
    assert client.get(f"/v1/logs/conversations/{cid}", headers=world["b"]).status_code == 404


def test_correction_becomes_a_search_hit_and_an_eval_question(world: dict[str, Any]) -> None:
    client, a = world["client"], world["a"]
    mid = world["refused"]["message_id"]
    fixed = "公司支持每周两天远程办公，需主管批准。"
    r = client.post(f"/v1/logs/messages/{mid}/correct", headers=a,
                    json={"answer": fixed, "kb": "hr", "eval_set": "fixes"})
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["source"] == f"corrections/message-{mid}.csv" and made["eval_set"] == "fixes"
    hits = client.post("/v1/search", headers=a, json={
        "query": "远程办公政策", "knowledge_bases": ["hr"], "top_k": 3}).json()["hits"]
    assert "两天远程办公" in hits[0]["text"]
    qs = client.get("/v1/evals/sets/fixes/questions", headers=a).json()
    assert qs[0]["question"] == REFUSED and qs[0]["reference_answers"] == [fixed]
    turn = client.get(f"/v1/logs/conversations/{world['refused']['conversation_id']}",
                      headers=a).json()["turns"][0]
    assert turn["corrected_answer"] == fixed
    # the other workspace cannot correct this reply, nor into a knowledge base it lacks
    other = client.post(f"/v1/logs/messages/{mid}/correct", headers=world["b"],
                        json={"answer": "x", "kb": "hr"})
    assert other.status_code == 404
    missing = client.post(f"/v1/logs/messages/{mid}/correct", headers=a,
                          json={"answer": "x", "kb": "nope"})
    assert missing.status_code == 404
    neither = client.post(f"/v1/logs/messages/{mid}/correct", headers=a, json={"answer": "x"})
    assert neither.status_code == 400


def test_unanswered_and_eval_set_from_log(world: dict[str, Any]) -> None:
    client, a = world["client"], world["a"]
    groups = client.get("/v1/logs/unanswered", headers=a).json()
    assert len(groups) == 1 and groups[0]["count"] == 2 and groups[0]["assistants"] == ["hr"]
    theirs = client.get("/v1/logs/unanswered", headers=world["b"]).json()
    assert [g["question"] for g in theirs] == ["tenant b secret question"]
    ids = [world["answered"]["message_id"], world["refused"]["message_id"]]
    r = client.post("/v1/logs/eval-sets", headers=a, json={"name": "from-log",
                                                           "message_ids": ids})
    assert r.status_code == 201 and r.json()["size"] == 2, r.text
    qs = client.get("/v1/evals/sets/from-log/questions", headers=a).json()
    assert qs[0]["expected_sources"] == {"leave.md": 1} and qs[1]["answerable"] is False
    assert client.post("/v1/logs/eval-sets", headers=world["b"],
                       json={"name": "steal", "message_ids": ids}).status_code == 404


def _xlsx(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_upload_eval_set_tables(world: dict[str, Any]) -> None:
    client, a = world["client"], world["a"]
    csv_text = "问题,参考答案,预期来源\n新员工有几天年假？,5 天,leave.md\n,缺问题,\n"
    r = client.post("/v1/evals/sets/upload", headers=a,
                    files={"file": ("年假.csv", csv_text.encode(), "text/csv")})
    assert r.status_code == 201, r.text
    assert r.json()["name"] == "年假" and r.json()["size"] == 1
    assert r.json()["skipped"] == [{"row": 3, "error": "the question is empty"}]
    data = _xlsx([["question", "reference_answer"], ["Q1", "A1"], ["Q2", "A2"]])
    r = client.post("/v1/evals/sets/upload", headers=a, data={"name": "book"},
                    files={"file": ("set.xlsx", data, "application/octet-stream")})
    assert r.status_code == 201 and r.json()["size"] == 2 and r.json()["skipped"] == []
    again = client.post("/v1/evals/sets/upload", headers=a, data={"name": "book"},
                        files={"file": ("set.xlsx", data, "application/octet-stream")})
    assert again.status_code == 409
    bad = client.post("/v1/evals/sets/upload", headers=a,
                      files={"file": ("set.txt", b"question\nq\n", "text/plain")})
    assert bad.status_code == 400


def test_logs_need_an_admin_and_scoped_keys_see_their_assistants(
    world: dict[str, Any],
) -> None:
    client, a = world["client"], world["a"]
    r = client.post("/v1/keys", headers=a, json={"access": "read_write"})
    writer = {"Authorization": f"Bearer {r.json()['key']}"}
    assert client.get("/v1/logs/conversations", headers=writer).status_code == 403
    assert client.get("/v1/logs/unanswered", headers=writer).status_code == 403
    mid = world["refused"]["message_id"]
    assert client.post(f"/v1/logs/messages/{mid}/correct", headers=writer,
                       json={"answer": "x", "kb": "hr"}).status_code == 403
    r = client.post("/v1/assistants", headers=a,
                    json={"slug": "other", "config": {"knowledge_bases": ["hr"]}})
    assert r.status_code == 201
    r = client.post("/v1/keys", headers=a, json={"access": "admin", "assistants": ["other"]})
    scoped = {"Authorization": f"Bearer {r.json()['key']}"}
    assert _page(client, scoped)["total"] == 0
    assert client.get("/v1/logs/conversations?assistant=hr", headers=scoped).status_code == 403
    assert client.post("/v1/logs/eval-sets", headers=scoped,
                       json={"name": "x", "message_ids": [mid]}).status_code == 403


def test_openai_requests_are_logged_unless_turned_off(settings: Settings) -> None:
    quiet = api_settings(settings.home, store_openai_chats=False)
    with TestClient(create_app(quiet)) as client:
        h = make_tenant(quiet, "quiet").headers
        _setup(client, h)
        _openai(client, h, ANSWERED)
        assert _page(client, h)["total"] == 0
        assert client.get("/v1/conversations", headers=h).json() == []
