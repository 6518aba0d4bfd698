"""Managing permissions over HTTP: groups and members (audit-logged), the groups of a document
and of a source (its synced documents, now and later), and re-indexing that keeps a document's
restriction."""

from __future__ import annotations

from pathlib import Path

from api_helpers import api_settings, make_tenant, wait_job
from fastapi.testclient import TestClient

from zhiku.api.app import create_app

SECRET = "# Payroll\n\nThe payroll cut-off code is PX4410.\n"


def _search(client: TestClient, h: dict[str, str]) -> str:
    r = client.post("/v1/search", headers=h,
                    json={"query": "payroll cut-off code", "knowledge_bases": ["kb"]})
    assert r.status_code == 200, r.text
    return r.text


def test_groups_documents_and_sources(zhiku_home: Path, tmp_path: Path) -> None:
    share = tmp_path / "shares" / "payroll"
    share.mkdir(parents=True)
    (share / "payroll.md").write_text(SECRET)
    settings = api_settings(zhiku_home, sources_folder_roots=[str(tmp_path / "shares")])
    with TestClient(create_app(settings)) as client:
        t = make_tenant(settings, "acme")
        h = t.headers
        client.post("/v1/kbs", headers=h, json={"name": "kb"})
        made = client.post("/v1/groups", headers=h, json={"name": "财务", "description": "pay"})
        assert made.status_code == 201, made.text
        group = made.json()
        assert client.post("/v1/groups", headers=h, json={"name": "财务"}).status_code == 409
        key = client.post("/v1/keys", headers=h, json={"name": "r", "access": "read"}).json()
        reader = {"Authorization": f"Bearer {key['key']}"}
        added = client.post(f"/v1/groups/{group['id']}/members", headers=h,
                            json={"key_id": key["id"]}).json()
        assert added["keys"] == [key["id"]] and added["users"] == []
        assert client.post(f"/v1/groups/{group['id']}/members", headers=h,
                           json={"key_id": key["id"], "user_id": 1}).status_code == 422
        assert client.post(f"/v1/groups/{group['id']}/members", headers=h,
                           json={"user_id": 987654}).status_code == 404
        renamed = client.patch(f"/v1/groups/{group['id']}", headers=h, json={"name": "payroll"})
        assert renamed.json()["name"] == "payroll"
        assert [g["name"] for g in client.get("/v1/groups", headers=h).json()] == ["payroll"]
        assert client.get("/v1/groups", headers=reader).status_code == 403

        # a source restricted before its first sync: its documents are born restricted
        source = client.post("/v1/kbs/kb/sources", headers=h, json={
            "name": "payroll", "kind": "folder", "config": {"path": str(share)}}).json()
        put = client.put(f"/v1/sources/{source['id']}/groups", headers=h,
                         json={"groups": ["payroll"]})
        assert put.json() == {"source_id": source["id"], "groups": [group["id"]]}
        run = client.post(f"/v1/sources/{source['id']}/sync", headers=h)
        wait_job(client, h, run.json()["job_id"])
        doc = client.get("/v1/kbs/kb/documents", headers=h).json()[0]
        assert doc["groups"] == [group["id"]]
        assert "PX4410" in _search(client, reader)
        client.delete(f"/v1/groups/{group['id']}/members/keys/{key['id']}", headers=h)
        assert "PX4410" not in _search(client, reader)
        assert client.get("/v1/kbs/kb/documents", headers=reader).json() == []

        # opening the source opens its documents; restricting one document closes it again
        client.put(f"/v1/sources/{source['id']}/groups", headers=h, json={"groups": None})
        assert "PX4410" in _search(client, reader)
        closed = client.put(f"/v1/kbs/kb/documents/{doc['id']}/groups", headers=h,
                            json={"groups": []})
        assert closed.status_code == 200 and closed.json()["groups"] == []
        assert "PX4410" not in _search(client, reader)
        assert "PX4410" in _search(client, h)  # the admin reads everything

        # an upload restricted from its first write keeps its groups through a re-index
        up = client.post("/v1/kbs/kb/documents", headers=h, data={"groups": "payroll"},
                         files=[("files", ("memo.md", b"# Memo\n\nMemo code MM2290.\n",
                                           "text/markdown"))])
        memo = wait_job(client, h, up.json()["id"])["files"][0]["document_id"]
        again = client.post(f"/v1/kbs/kb/documents/{memo}/reindex", headers=h)
        wait_job(client, h, again.json()["id"])
        memo_doc = next(d for d in client.get("/v1/kbs/kb/documents", headers=h).json()
                        if d["source"] == "memo.md")
        assert memo_doc["groups"] == [group["id"]]
        r = client.post("/v1/search", headers=reader, json={"query": "memo code"})
        assert "MM2290" not in r.text
        assert client.post("/v1/kbs/kb/documents", headers=reader, data={"groups": "payroll"},
                           files=[("files", ("x.md", b"# x", "text/markdown"))]
                           ).status_code == 403

        # deleting the group leaves its documents restricted to administrators
        assert client.delete(f"/v1/groups/{group['id']}", headers=h).status_code == 200
        memo_doc = client.get(f"/v1/kbs/kb/documents/{memo_doc['id']}", headers=h).json()
        assert memo_doc["groups"] == []

        actions = [e["action"] for e in client.get(
            "/v1/audit", headers=h, params={"limit": 500}).json()["entries"]]
        for action in ("group.create", "group.update", "group.member_add",
                       "group.member_remove", "group.delete", "source.groups",
                       "document.groups"):
            assert action in actions, action
