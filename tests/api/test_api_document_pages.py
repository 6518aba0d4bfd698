"""Documents at scale over HTTP: pages, search, sort, filters and a total count; batch delete,
re-index and tag with a result per document."""

from __future__ import annotations

from api_helpers import HANDBOOK, Tenant, wait_job
from fastapi.testclient import TestClient

from zhiku.core.settings import Settings
from zhiku.service import Zhiku


def _fill(settings: Settings, t: Tenant, kb: str, n: int) -> None:
    """``n`` documents written straight to the store (no parsing): doc-000 … with sizes,
    chunk counts and tags that differ."""
    with Zhiku(settings, t.name) as zk:
        kb_id = zk.kb(kb).id
        for i in range(n):
            zk.store.replace_document(
                kb_id, source=f"doc-{i:03d}.txt", title=f"标题 {i}" if i % 2 else None,
                content_hash=f"h{i}", fmt="txt", size_bytes=1000 - i,
                metadata={"tags": ["even"] if i % 2 == 0 else ["odd"]}, chunks=[])


def _upload(client: TestClient, t: Tenant, kb: str, name: str, text: str) -> int:
    r = client.post(f"/v1/kbs/{kb}/documents", headers=t.headers,
                    files=[("files", (name, text.encode(), "text/markdown"))])
    job = wait_job(client, t.headers, r.json()["id"])
    assert job["status"] == "done", job
    return int(job["files"][0]["document_id"])


def test_pages_search_sort_and_count(
    client: TestClient, settings: Settings, tenant_a: Tenant
) -> None:
    h = tenant_a.headers
    client.post("/v1/kbs", headers=h, json={"name": "big"})
    _fill(settings, tenant_a, "big", 60)

    plain = client.get("/v1/kbs/big/documents", headers=h)
    assert plain.status_code == 200
    assert len(plain.json()) == 60  # without paging parameters: every document, as before
    assert [d["source"] for d in plain.json()][:2] == ["doc-000.txt", "doc-001.txt"]
    assert plain.headers["x-total-count"] == "60"

    page = client.get("/v1/kbs/big/documents?limit=25&offset=50", headers=h)
    assert [d["source"] for d in page.json()] == [f"doc-{i:03d}.txt" for i in range(50, 60)]
    assert page.headers["x-total-count"] == "60"

    by_size = client.get("/v1/kbs/big/documents?sort=size&order=asc&limit=3", headers=h).json()
    assert [d["size_bytes"] for d in by_size] == [941, 942, 943]
    newest = client.get("/v1/kbs/big/documents?sort=created&order=desc&limit=1", headers=h)
    assert newest.status_code == 200 and len(newest.json()) == 1

    found = client.get("/v1/kbs/big/documents", params={"q": "DOC-01"}, headers=h)
    assert [d["source"] for d in found.json()] == [f"doc-01{i}.txt" for i in range(10)]
    assert found.headers["x-total-count"] == "10"
    by_title = client.get("/v1/kbs/big/documents", params={"q": "标题 5"}, headers=h)
    assert {d["source"] for d in by_title.json()} >= {"doc-005.txt", "doc-051.txt"}
    literal = client.get("/v1/kbs/big/documents", params={"q": "%"}, headers=h)
    assert literal.json() == [] and literal.headers["x-total-count"] == "0"

    odd = client.get("/v1/kbs/big/documents?tag=odd&limit=5", headers=h)
    assert odd.headers["x-total-count"] == "30"
    assert all(d["tags"] == ["odd"] for d in odd.json())
    parsed = client.get("/v1/kbs/big/documents?status=parsed&tag=even", headers=h)
    assert parsed.headers["x-total-count"] == "30"
    assert client.get("/v1/kbs/big/documents?status=error", headers=h).json() == []

    for bad in ("limit=0", "limit=1001", "offset=-1", "sort=colour", "order=up"):
        assert client.get(f"/v1/kbs/big/documents?{bad}", headers=h).status_code == 422, bad


def test_batch_delete_tag_and_reindex(client: TestClient, tenant_a: Tenant) -> None:
    h = tenant_a.headers
    client.post("/v1/kbs", headers=h, json={"name": "kb"})
    a = _upload(client, tenant_a, "kb", "a.md", HANDBOOK)
    b = _upload(client, tenant_a, "kb", "b.md", "# B\n\nSecond document about parking.\n")
    c = _upload(client, tenant_a, "kb", "c.md", "# C\n\nThird document about lunch.\n")

    r = client.post("/v1/kbs/kb/documents/batch", headers=h,
                    json={"action": "tag", "ids": [a, b, 10**9], "tags": ["hr", "2026"]})
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["done"], out["failed"]) == (2, 1)
    assert out["results"][2] == {"id": 10**9, "ok": False, "error_type": "not_found",
                                 "error": out["results"][2]["error"]}
    assert client.get(f"/v1/kbs/kb/documents/{a}", headers=h).json()["tags"] == ["hr", "2026"]
    r = client.post("/v1/kbs/kb/documents/batch", headers=h,
                    json={"action": "tag", "ids": [a], "remove_tags": ["hr"], "tags": ["x"]})
    assert client.get(f"/v1/kbs/kb/documents/{a}", headers=h).json()["tags"] == ["2026", "x"]
    assert client.post("/v1/kbs/kb/documents/batch", headers=h,
                       json={"action": "tag", "ids": [a]}).status_code == 400

    r = client.post("/v1/kbs/kb/documents/batch", headers=h,
                    json={"action": "reindex", "ids": [a, b]})
    out = r.json()
    assert out["done"] == 2 and out["job"]["kind"] == "reindex"
    job = wait_job(client, h, out["job"]["id"])
    assert job["status"] == "done", job
    assert sorted(f["source"] for f in job["files"]) == ["a.md", "b.md"]
    listed = client.get("/v1/kbs/kb/documents", headers=h).json()
    assert len(listed) == 3
    kept = {d["source"]: d for d in listed}
    assert kept["a.md"]["tags"] == ["2026", "x"]  # re-indexing keeps metadata

    r = client.post("/v1/kbs/kb/reindex", headers=h)
    assert r.status_code == 202 and r.json()["done"] == 3
    assert wait_job(client, h, r.json()["job"]["id"])["status"] == "done"

    ids = [d["id"] for d in client.get("/v1/kbs/kb/documents", headers=h).json()]
    r = client.post("/v1/kbs/kb/documents/batch", headers=h,
                    json={"action": "delete", "ids": [*ids, ids[0]]})
    assert r.json()["done"] == 3 and len(r.json()["results"]) == 3  # each id once
    assert client.get("/v1/kbs/kb/documents", headers=h).json() == []
    assert c  # (uploaded, then deleted by id above)

    for bad in ({"action": "delete", "ids": []}, {"action": "burn", "ids": [1]},
                {"action": "delete", "ids": list(range(1, 1002))}):
        assert client.post("/v1/kbs/kb/documents/batch", headers=h, json=bad).status_code == 422


def test_batch_needs_write_access(client: TestClient, tenant_a: Tenant) -> None:
    h = tenant_a.headers
    client.post("/v1/kbs", headers=h, json={"name": "kb"})
    key = client.post("/v1/keys", headers=h, json={"name": "r", "access": "read"}).json()["key"]
    reader = {"Authorization": f"Bearer {key}"}
    assert client.get("/v1/kbs/kb/documents?limit=5", headers=reader).status_code == 200
    r = client.post("/v1/kbs/kb/documents/batch", headers=reader,
                    json={"action": "delete", "ids": [1]})
    assert r.status_code == 403
    assert client.post("/v1/kbs/kb/reindex", headers=reader).status_code == 403
