"""Search filters at the edge: empty tag and metadata filters restrict nothing; metadata
filters compare scalars, and objects are refused with 422."""

from __future__ import annotations

from api_helpers import Tenant, seed
from fastapi.testclient import TestClient


def test_empty_and_object_filters(client: TestClient, tenant_a: Tenant) -> None:
    seed(client, tenant_a, "hr")
    h = tenant_a.headers
    for mode in ("hybrid", "keyword", "vector"):
        for filters in ({"tags": []}, {"metadata": {}}, {"tags": [], "metadata": {}}):
            r = client.post("/v1/search", headers=h,
                            json={"query": "annual leave", "mode": mode, "filters": filters})
            assert r.status_code == 200, (mode, filters, r.text)
            assert r.json()["hits"], (mode, filters)
    for value in ({"a": 1}, [{"a": 1}], [[1]]):
        r = client.post("/v1/search", headers=h, json={
            "query": "leave", "filters": {"metadata": {"k": value}}})
        assert r.status_code == 422, (value, r.text)
    r = client.post("/v1/search", headers=h, json={
        "query": "leave", "filters": {"metadata": {"team": ["people", 1, True, None]}}})
    assert r.status_code == 200
