"""Over HTTP: the embedders installed (with whether each reads Chinese), the upload formats,
a knowledge base's retrieval note, the search warning, and switching the embedder with a
background re-embed."""

from __future__ import annotations

from api_helpers import ZH_POLICY, Tenant, wait_job
from fastapi.testclient import TestClient

from zhiku.core.extras import has_extra


def test_embedders_and_formats(client: TestClient, tenant_a: Tenant) -> None:
    h = tenant_a.headers
    listed = client.get("/v1/embedders", headers=h).json()
    by_name = {e["name"]: e for e in listed}
    assert listed[0]["name"] == "use-multilingual" and listed[0]["chinese"] is True
    assert by_name["use-multilingual"]["installed"] is has_extra("multilingual")
    assert by_name["minilm"]["chinese"] is False and by_name["minilm"]["installed"] is True
    assert by_name["hashing"]["default"] is True  # this server's ZHIKU_EMBEDDER
    formats = client.get("/v1/formats", headers=h).json()
    assert {"pdf", "docx", "md", "txt", "xlsx"} <= set(formats["extensions"])
    assert "zip" not in formats["extensions"]
    assert formats["max_file_bytes"] > 0
    assert client.get("/v1/embedders").status_code == 401


def test_language_note_warning_and_switch(client: TestClient, tenant_a: Tenant) -> None:
    h = tenant_a.headers
    r = client.post("/v1/kbs", headers=h, json={"name": "zh", "settings": {"language": "zh"}})
    assert r.status_code == 201, r.text
    kb = r.json()
    assert kb["settings"]["language"] == "zh"
    assert kb["embedder"] == "hashing"  # the operator's embedder wins
    assert kb["chinese_retrieval"] == "keyword" and "keywords only" in kb["retrieval_note"]
    assert client.post("/v1/kbs", headers=h, json={
        "name": "x", "settings": {"language": "fr"}}).status_code == 422

    up = client.post("/v1/kbs/zh/documents", headers=h,
                     files=[("files", ("policy.md", ZH_POLICY.encode(), "text/markdown"))])
    assert wait_job(client, h, up.json()["id"])["status"] == "done"
    found = client.post("/v1/search", headers=h,
                        json={"query": "报销需要什么", "knowledge_bases": ["zh"]})
    assert found.json()["hits"] and "keywords only" in found.json()["warnings"][0]
    english = client.post("/v1/search", headers=h,
                          json={"query": "receipt", "knowledge_bases": ["zh"]})
    assert english.json()["warnings"] == []

    r = client.post("/v1/kbs/zh/embedder", headers=h, json={"embedder": "hashing-64"})
    assert r.status_code == 202, r.text
    assert r.json()["embedder"] == "hashing-64"
    job = wait_job(client, h, r.json()["job"]["id"])
    assert job["status"] == "done" and job["kind"] == "embed"
    stats = client.get("/v1/kbs/zh", headers=h).json()["stats"]
    assert stats["ready"] == 1 and stats["embedded"] == stats["chunks"] > 0
    vector = client.post("/v1/search", headers=h, json={
        "query": "报销 发票", "knowledge_bases": ["zh"], "mode": "vector"}).json()
    assert vector["hits"]
    same = client.post("/v1/kbs/zh/embedder", headers=h, json={"embedder": "hashing-64"})
    assert same.json()["job"] is None
    assert client.post("/v1/kbs/zh/embedder", headers=h,
                       json={"embedder": "nope"}).status_code == 400
    key = client.post("/v1/keys", headers=h, json={"name": "r", "access": "read"}).json()["key"]
    assert client.post("/v1/kbs/zh/embedder", headers={"Authorization": f"Bearer {key}"},
                       json={"embedder": "hashing"}).status_code == 403


def test_patch_sets_and_unsets_settings(client: TestClient, tenant_a: Tenant) -> None:
    h = tenant_a.headers
    client.post("/v1/kbs", headers=h, json={"name": "kb", "settings": {"chunk_tokens": 256}})
    r = client.patch("/v1/kbs/kb", headers=h, json={"settings": {"graph": True,
                                                                 "chunk_overlap": 32}})
    assert r.json()["settings"] == {"chunk_tokens": 256, "graph": True, "chunk_overlap": 32}
    r = client.patch("/v1/kbs/kb", headers=h, json={"settings": {"chunk_tokens": None,
                                                                 "graph": False}})
    assert r.json()["settings"] == {"graph": False, "chunk_overlap": 32}
