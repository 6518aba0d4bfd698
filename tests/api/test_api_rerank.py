"""Rerankers over HTTP: a knowledge base's ``reranker`` setting reorders ``/v1/search`` hits
(``reranked`` on each), a failing reranker keeps the fused order, and an assistant's
``retrieval.reranker`` must name a provider of kind rerank."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api_helpers import HANDBOOK, Tenant, make_tenant, wait_job
from fastapi.testclient import TestClient

from rerank_server import RerankServer
from zhiku.core.settings import Settings
from zhiku.service import Zhiku


@pytest.fixture
def tenant(settings: Settings, client: TestClient) -> Iterator[tuple[Tenant, RerankServer]]:
    server = RerankServer()
    server.favourite = "Expense"
    t = make_tenant(settings, "default")
    assert client.post("/v1/kbs", headers=t.headers, json={"name": "hr"}).status_code == 201
    job = client.post("/v1/kbs/hr/documents", headers=t.headers, files=[
        ("files", ("handbook.md", HANDBOOK.encode(), "text/markdown"))]).json()
    assert wait_job(client, t.headers, job["id"])["status"] == "done"
    with Zhiku(settings) as zk:
        zk.add_provider("rr", kind="rerank", base_url=server.url, models=["bge"], timeout=2)
        zk.add_provider("chat", base_url=server.url, models=["m"])
    try:
        yield t, server
    finally:
        server.stop()


def test_kb_setting_reranks_search_and_falls_back(
    client: TestClient, tenant: tuple[Tenant, RerankServer]
) -> None:
    t, server = tenant
    h = t.headers
    query = {"query": "annual leave for new employees", "knowledge_bases": ["hr"], "top_k": 2}
    plain = client.post("/v1/search", headers=h, json=query).json()["hits"]
    assert [x["reranked"] for x in plain] == [None] * len(plain)
    r = client.patch("/v1/kbs/hr", headers=h, json={"settings": {"reranker": "rr/bge"}})
    assert r.status_code == 200 and r.json()["settings"]["reranker"] == "rr/bge"
    hits = client.post("/v1/search", headers=h, json=query).json()["hits"]
    assert hits[0]["reranked"] is True and "Expense" in hits[0]["text"]
    assert hits[0]["scores"]["rerank"] == 1.0 and len(server.requests) == 1
    server.status = 500
    fallback = client.post("/v1/search", headers=h, json=query).json()["hits"]
    assert [x["chunk_id"] for x in fallback] == [x["chunk_id"] for x in plain]
    assert all(x["reranked"] is False for x in fallback)
    bad = client.patch("/v1/kbs/hr", headers=h, json={"settings": {"rerank_top_n": 0}})
    assert bad.status_code in (400, 422)


def test_assistant_reranker_must_be_a_reranker(
    client: TestClient, tenant: tuple[Tenant, RerankServer]
) -> None:
    t, _ = tenant
    h = t.headers

    def create(slug: str, **config: object) -> int:
        body = {"slug": slug, "config": {"knowledge_bases": ["hr"], **config}}
        return client.post("/v1/assistants", headers=h, json=body).status_code

    assert create("a", retrieval={"reranker": "nowhere/x"}) == 400
    assert create("b", retrieval={"reranker": "chat/m"}) == 400
    assert create("c", model="rr/bge") == 400  # a reranker is no chat model
    assert create("d", retrieval={"reranker": "rr/bge", "rerank_top_n": 5}) == 201
    got = client.get("/v1/assistants/d", headers=h).json()
    assert got["config"]["retrieval"]["reranker"] == "rr/bge"
