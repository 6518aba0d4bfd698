"""Who may use a stored conversation over HTTP: its owner (the user or key that started it) or an
admin whose scope reaches it; detached conversations (assistant deleted) keep their cited
passages out of scoped keys; feedback follows reading; a key limited to assistants reaches only
their knowledge bases."""

from __future__ import annotations

from typing import Any

from api_helpers import HANDBOOK, Tenant, wait_job
from fastapi.testclient import TestClient

from zhiku.core.settings import Settings
from zhiku.service import Zhiku

SECRET_DOC = (
    "# Payroll\n\nThe secret bonus pool in the payroll figures is KBA2-ONLY-SECRET, "
    "paid every March to the sales team.\n"
)
LEAVE = "How many days of paid annual leave do new employees get?"
BONUS = "What is the secret bonus pool in the payroll figures?"

Headers = dict[str, str]


def _bearer(token: str) -> Headers:
    return {"Authorization": f"Bearer {token}"}


def _kb(client: TestClient, h: Headers, name: str, filename: str, text: str) -> int:
    assert client.post("/v1/kbs", headers=h, json={"name": name}).status_code == 201
    r = client.post(f"/v1/kbs/{name}/documents", headers=h,
                    files=[("files", (filename, text.encode(), "text/markdown"))])
    assert r.status_code == 202, r.text
    job = wait_job(client, h, r.json()["id"])
    assert job["status"] == "done", job
    return int(job["files"][0]["document_id"])


def _bot(client: TestClient, h: Headers, slug: str, kbs: list[str]) -> None:
    r = client.post("/v1/assistants", headers=h,
                    json={"slug": slug, "config": {"knowledge_bases": kbs}})
    assert r.status_code == 201, r.text


def _key(client: TestClient, h: Headers, **scope: Any) -> tuple[int, Headers]:
    r = client.post("/v1/keys", headers=h, json=scope)
    assert r.status_code == 201, r.text
    return int(r.json()["id"]), _bearer(r.json()["key"])


def _member(client: TestClient, h: Headers, name: str, role: str) -> tuple[int, Headers]:
    """A member who joined by invitation: their user id and session headers."""
    email, password = f"{name}@acme.example", f"{name}-Password-2026!"
    r = client.post("/v1/users", headers=h, json={"email": email, "role": role})
    assert r.status_code == 202, r.text
    signup = client.post("/v1/auth/signup", json={"token": r.json()["token"], "password": password})
    assert signup.status_code == 201, signup.text
    session = _bearer(signup.json()["token"])
    return int(client.get("/v1/auth/me", headers=session).json()["user_id"]), session


def _chat(client: TestClient, h: Headers, slug: str, message: str,
          cid: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"message": message}
    if cid is not None:
        body["conversation_id"] = cid
    r = client.post(f"/v1/assistants/{slug}/chat", headers=h, json=body)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _world(client: TestClient, a: Tenant) -> dict[str, Any]:
    """kbA (handbook) behind bota, kbA2 (payroll secret) behind tmpbot."""
    h = a.headers
    w: dict[str, Any] = {"doc_a": _kb(client, h, "kba", "handbook.md", HANDBOOK),
                         "doc_a2": _kb(client, h, "kba2", "payroll.md", SECRET_DOC)}
    _bot(client, h, "bota", ["kba"])
    _bot(client, h, "tmpbot", ["kba2"])
    return w


def _ids(rows: list[dict[str, Any]]) -> set[int]:
    return {int(r["id"]) for r in rows}


def test_conversations_belong_to_who_started_them(
    client: TestClient, tenant_a: Tenant, settings: Settings
) -> None:
    _world(client, tenant_a)
    admin = tenant_a.headers
    widget_id, widget = _key(client, admin, access="read", assistants=["bota"])
    _, other_widget = _key(client, admin, access="read", assistants=["bota"])
    _, reader = _key(client, admin, access="read")
    viewer_id, viewer = _member(client, admin, "alice", "viewer")
    _, editor = _member(client, admin, "ed", "editor")

    mine = _chat(client, widget, "bota", LEAVE)["conversation_id"]
    alice = _chat(client, viewer, "bota", LEAVE)["conversation_id"]
    admins = _chat(client, admin, "bota", LEAVE)["conversation_id"]
    with Zhiku(settings, workspace=tenant_a.name) as zk:  # the CLI and Python API: no owner
        local = zk.chat("bota", LEAVE).conversation_id

    listed = client.get("/v1/conversations", headers=admin).json()
    owners = {r["id"]: (r["user_id"], r["key_id"]) for r in listed}
    assert owners[mine] == (None, widget_id) and owners[alice] == (viewer_id, None)
    assert owners[local] == (None, None)
    assert _ids(client.get("/v1/conversations", headers=widget).json()) == {mine}
    assert _ids(client.get("/v1/conversations?assistant=bota", headers=widget).json()) == {mine}
    assert _ids(client.get("/v1/conversations", headers=viewer).json()) == {alice}
    for h in (other_widget, reader, editor):
        assert client.get("/v1/conversations", headers=h).json() == []

    # nobody but the owner and admins reads, continues or deletes a conversation
    for h in (other_widget, reader, viewer, editor):
        for cid in (mine, local):
            assert client.get(f"/v1/conversations/{cid}", headers=h).status_code == 403
            r = client.get(f"/v1/conversations/{cid}/messages", headers=h)
            assert r.status_code == 403 and "fifteen" not in r.text
            r = client.post("/v1/assistants/bota/chat", headers=h,
                            json={"message": "And managers?", "conversation_id": cid})
            assert r.status_code == 403
            assert client.delete(f"/v1/conversations/{cid}", headers=h).status_code == 403
    assert client.get(f"/v1/conversations/{admins}", headers=viewer).status_code == 403
    assert client.delete(f"/v1/conversations/{alice}", headers=widget).status_code == 403
    assert len(client.get(f"/v1/conversations/{mine}/messages", headers=admin).json()) == 2

    # the owner, even with a read key, continues, reads and deletes its own
    _chat(client, widget, "bota", "And for managers?", mine)
    msgs = client.get(f"/v1/conversations/{mine}/messages", headers=widget).json()
    assert [m["role"] for m in msgs] == ["user", "assistant"] * 2
    assert client.delete(f"/v1/conversations/{alice}", headers=viewer).status_code == 200
    assert client.delete(f"/v1/conversations/{mine}", headers=widget).status_code == 200
    # admins see and delete every one, ownerless ones included
    assert client.get(f"/v1/conversations/{local}/messages", headers=admin).status_code == 200
    assert client.delete(f"/v1/conversations/{local}", headers=admin).status_code == 200
    assert _ids(client.get("/v1/conversations", headers=admin).json()) == {admins}


def test_detached_conversations_do_not_bypass_scopes(
    client: TestClient, tenant_a: Tenant
) -> None:
    _world(client, tenant_a)
    admin = tenant_a.headers
    _, kba_key = _key(client, admin, access="read_write", knowledge_bases=["kba"])
    _, bot_key = _key(client, admin, access="read", assistants=["bota"])
    _, kba2_key = _key(client, admin, access="read_write", knowledge_bases=["kba2"])
    _, tmp_key = _key(client, admin, access="read_write", assistants=["tmpbot"])
    chat = _chat(client, admin, "tmpbot", BONUS)
    assert chat["citations"] and "KBA2-ONLY-SECRET" in chat["citations"][0]["text"]
    cid, mid = chat["conversation_id"], chat["message_id"]
    own = _chat(client, kba2_key, "tmpbot", BONUS)["conversation_id"]
    via_bot = _chat(client, tmp_key, "tmpbot", BONUS)["conversation_id"]
    assert client.delete("/v1/assistants/tmpbot", headers=admin).status_code == 200

    for h in (kba_key, bot_key):
        r = client.get(f"/v1/conversations/{cid}/messages", headers=h)
        assert r.status_code == 403 and "KBA2-ONLY-SECRET" not in r.text
        assert client.get(f"/v1/conversations/{cid}", headers=h).status_code == 403
        r = client.post(f"/v1/messages/{mid}/feedback", headers=h, json={"rating": "neutral"})
        assert r.status_code == 403 and "KBA2-ONLY-SECRET" not in r.text
        r = client.post("/v1/assistants/bota/chat", headers=h,
                        json={"message": "x", "conversation_id": cid})
        assert r.status_code == 403
        assert client.delete(f"/v1/conversations/{cid}", headers=h).status_code == 403
        assert cid not in _ids(client.get("/v1/conversations", headers=h).json())
    assert len(client.get(f"/v1/conversations/{cid}/messages", headers=admin).json()) == 2

    # a scoped key keeps its own detached conversation while its scope covers what it cites;
    # the key limited to tmpbot lost kbA2 with its assistant
    assert client.get(f"/v1/conversations/{own}/messages", headers=kba2_key).status_code == 200
    assert _ids(client.get("/v1/conversations", headers=kba2_key).json()) == {own}
    r = client.get(f"/v1/conversations/{via_bot}/messages", headers=tmp_key)
    assert r.status_code == 403 and "KBA2-ONLY-SECRET" not in r.text
    assert client.get("/v1/conversations", headers=tmp_key).json() == []

    # a detached conversation, or another assistant's, cannot go on: start a new one
    r = client.post("/v1/assistants/bota/chat", headers=admin,
                    json={"message": "And in April?", "conversation_id": cid})
    assert r.status_code == 400 and "deleted" in r.json()["error"]["message"]
    other = _chat(client, admin, "bota", LEAVE)["conversation_id"]
    _bot(client, admin, "botb", ["kba"])
    r = client.post("/v1/assistants/botb/chat", headers=admin,
                    json={"message": "And managers?", "conversation_id": other})
    assert r.status_code == 400 and "another assistant" in r.json()["error"]["message"]
    assert len(client.get(f"/v1/conversations/{cid}/messages", headers=admin).json()) == 2


def test_a_key_limited_to_an_assistant_reaches_only_its_knowledge_bases(
    client: TestClient, tenant_a: Tenant
) -> None:
    w = _world(client, tenant_a)
    admin = tenant_a.headers
    _, bot_key = _key(client, admin, access="read", assistants=["bota"])
    _, both = _key(client, admin, access="read", assistants=["bota"], knowledge_bases=["kba2"])

    r = client.post("/v1/search", headers=bot_key, json={"query": "payroll bonus pool figures"})
    assert r.status_code == 200 and "KBA2-ONLY-SECRET" not in r.text
    assert {h["kb"] for h in r.json()["hits"]} <= {"kba"}
    r = client.post("/v1/search", headers=bot_key,
                    json={"query": "payroll figures", "knowledge_bases": ["kba2"]})
    assert r.status_code == 403
    assert [k["name"] for k in client.get("/v1/kbs", headers=bot_key).json()] == ["kba"]
    original = f"/v1/kbs/kba2/documents/{w['doc_a2']}/original"
    for path in (original, "/v1/kbs/kba2/documents", f"/v1/kbs/kba2/documents/{w['doc_a2']}"):
        r = client.get(path, headers=bot_key)
        assert r.status_code == 403 and "KBA2-ONLY-SECRET" not in r.text
    assert client.get(f"/v1/kbs/kba/documents/{w['doc_a']}", headers=bot_key).status_code == 200
    assert _chat(client, bot_key, "bota", LEAVE)["citations"]

    # both scopes: only what both allow (nothing here: bota does not use kbA2)
    r = client.post("/v1/search", headers=both, json={"query": "payroll bonus pool figures"})
    assert r.status_code == 400 and "no knowledge base" in r.text
    assert client.get("/v1/kbs", headers=both).json() == []
    assert client.get(original, headers=both).status_code == 403

    # the assistant's knowledge bases are read on each request
    r = client.patch("/v1/assistants/bota", headers=admin,
                     json={"config": {"knowledge_bases": ["kba", "kba2"]}})
    assert r.status_code == 200, r.text
    assert client.get(original, headers=bot_key).status_code == 200
    assert client.get(original, headers=both).status_code == 200


def test_feedback_needs_the_conversation_and_corrections_need_write(
    client: TestClient, tenant_a: Tenant
) -> None:
    _world(client, tenant_a)
    admin = tenant_a.headers
    _, widget = _key(client, admin, access="read", assistants=["bota"])
    _, reader = _key(client, admin, access="read")
    _, editor = _member(client, admin, "ed", "editor")
    admins_mid = _chat(client, admin, "bota", LEAVE)["message_id"]
    widget_mid = _chat(client, widget, "bota", LEAVE)["message_id"]
    editor_mid = _chat(client, editor, "bota", LEAVE)["message_id"]

    for h in (reader, widget, editor):  # not theirs
        r = client.post(f"/v1/messages/{admins_mid}/feedback", headers=h,
                        json={"rating": "down", "corrected_answer": "Zero days."})
        assert r.status_code == 403
        r = client.post(f"/v1/messages/{admins_mid}/feedback", headers=h, json={"rating": "up"})
        assert r.status_code == 403
    # the owner rates its own answers; a read key may not write a corrected answer
    r = client.post(f"/v1/messages/{widget_mid}/feedback", headers=widget,
                    json={"rating": "down", "comment": "too short"})
    assert r.status_code == 201 and r.json()["rating"] == -1
    r = client.post(f"/v1/messages/{widget_mid}/feedback", headers=widget,
                    json={"rating": "down", "corrected_answer": "Zero days."})
    assert r.status_code == 403
    r = client.post(f"/v1/messages/{editor_mid}/feedback", headers=editor,
                    json={"rating": "down", "corrected_answer": "Fifteen days."})
    assert r.status_code == 201 and r.json()["corrected_answer"] == "Fifteen days."
    r = client.post(f"/v1/messages/{widget_mid}/feedback", headers=admin,
                    json={"rating": "up", "corrected_answer": "Fifteen days."})
    assert r.status_code == 201
    logged = {f["message_id"]: f for f in client.get("/v1/feedback", headers=admin).json()}
    assert admins_mid not in logged
    assert logged[widget_mid]["corrected_answer"] == "Fifteen days."
