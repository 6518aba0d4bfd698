"""Free-form JSON the API stores is bounded in depth and size (422 otherwise), and JSON stored
before those bounds, however deep, never breaks the responses that show it."""

from __future__ import annotations

import json
from typing import Any

from api_helpers import HANDBOOK, Tenant, wait_job
from fastapi.testclient import TestClient

from zhiku.core.jsonbounds import MAX_BYTES, MAX_DEPTH, clamp_json, depth_over
from zhiku.core.settings import Settings
from zhiku.runtime import Runtime


def nested(depth: int) -> dict[str, Any]:
    """An object ``depth`` levels deep: {"k": [[...]]}."""
    value: Any = []
    for _ in range(depth - 2):
        value = [value]
    return {"k": value}


def _document(client: TestClient, t: Tenant) -> int:
    h = t.headers
    assert client.post("/v1/kbs", headers=h, json={"name": "hr"}).status_code == 201
    r = client.post("/v1/kbs/hr/documents", headers=h,
                    files=[("files", ("handbook.md", HANDBOOK.encode(), "text/markdown"))])
    job = wait_job(client, h, r.json()["id"])
    return int(job["files"][0]["document_id"])


def _refused(r: Any, field: str) -> None:
    assert r.status_code == 422, r.text
    body = r.json()["error"]
    assert body["type"] == "invalid_request"
    assert any(field in p["loc"] and ("nested deeper" in p["msg"] or "bytes" in p["msg"])
               for p in body["errors"]), body


def test_depth_helpers() -> None:
    assert not depth_over(nested(MAX_DEPTH), MAX_DEPTH)
    assert depth_over(nested(MAX_DEPTH + 1), MAX_DEPTH)
    assert not depth_over({"a": 1, "b": "x"}, 1)
    deep = nested(5000)  # beyond Python's recursion limit: checked without recursion
    assert depth_over(deep, MAX_DEPTH)
    cut = clamp_json(nested(10), 4)
    assert cut == {"k": [[[None]]]} and not depth_over(cut, 4)


def test_patch_and_upload_metadata_are_bounded(client: TestClient, tenant_a: Tenant) -> None:
    h = tenant_a.headers
    doc_id = _document(client, tenant_a)
    url = f"/v1/kbs/hr/documents/{doc_id}"
    before = client.get(url, headers=h).json()["metadata"]
    _refused(client.patch(url, headers=h, json={"metadata": nested(300)}), "metadata")
    _refused(client.patch(url, headers=h, json={"metadata": nested(MAX_DEPTH + 1)}), "metadata")
    _refused(client.patch(url, headers=h, json={"metadata": {"k": "x" * MAX_BYTES}}), "metadata")
    assert client.get(url, headers=h).json()["metadata"] == before  # nothing was written
    ok = client.patch(url, headers=h, json={"metadata": nested(MAX_DEPTH)})
    assert ok.status_code == 200 and ok.json()["metadata"] == nested(MAX_DEPTH)

    files = [("files", ("more.md", b"# More\n\nSome more text.\n", "text/markdown"))]
    r = client.post("/v1/kbs/hr/documents", headers=h, files=files,
                    data={"metadata": json.dumps(nested(300))})
    _refused(r, "metadata")
    r = client.post("/v1/kbs/hr/documents/url", headers=h,
                    json={"url": "https://example.com/x", "metadata": nested(40)})
    _refused(r, "metadata")


def test_eval_items_and_filters_are_bounded(client: TestClient, tenant_a: Tenant) -> None:
    h = tenant_a.headers
    q = {"question": "How many days?", "metadata": nested(40)}
    r = client.post("/v1/evals/sets", headers=h, json={"name": "deep", "questions": [q]})
    _refused(r, "questions")
    r = client.post("/v1/assistants", headers=h, json={
        "slug": "bot", "config": {"knowledge_bases": ["hr"],
                                  "retrieval": {"filters": {"metadata": {"k": "x" * MAX_BYTES}}}}})
    _refused(r, "metadata")


def test_stored_deep_metadata_never_breaks_reads(
    client: TestClient, tenant_a: Tenant, settings: Settings
) -> None:
    h = tenant_a.headers
    doc_id = _document(client, tenant_a)
    runtime = Runtime(settings)
    store = runtime.store
    try:  # as written before the bounds existed
        store.set_document_metadata(doc_id, {"team": "people", **nested(300)})
    finally:
        runtime.close()
    docs = client.get("/v1/kbs/hr/documents", headers=h)
    assert docs.status_code == 200, docs.text
    meta = docs.json()[0]["metadata"]
    assert meta["team"] == "people" and not depth_over(meta, 64)
    assert client.get(f"/v1/kbs/hr/documents/{doc_id}", headers=h).status_code == 200
    r = client.post("/v1/search", headers=h, json={"query": "paid annual leave"})
    assert r.status_code == 200 and r.json()["hits"], r.text
    chunks = client.get(f"/v1/kbs/hr/documents/{doc_id}/chunks", headers=h)
    assert chunks.status_code == 200
    # repair: replace it
    fixed = client.patch(f"/v1/kbs/hr/documents/{doc_id}", headers=h, json={"metadata": {}})
    assert fixed.status_code == 200 and fixed.json()["metadata"] == {}
