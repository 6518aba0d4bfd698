"""The API answers as its OpenAPI document says: a 405 names every method of the path, request
values keep their JSON types, days are ISO dates, and the document states the rules the
validators apply (what the schemathesis run in ``test_api_fuzz`` checks at large)."""

from __future__ import annotations

from typing import Any

from api_helpers import Tenant
from fastapi.testclient import TestClient


def _allow(r: Any) -> set[str]:
    return {m.strip() for m in r.headers["allow"].split(",")} - {"HEAD"}


def test_405_allows_every_method_of_the_path(client: TestClient, tenant_a: Tenant) -> None:
    r = client.options("/v1/kbs", headers=tenant_a.headers)
    assert r.status_code == 405 and _allow(r) == {"GET", "POST"}
    r = client.put("/v1/kbs/anything", headers=tenant_a.headers)
    assert r.status_code == 405 and _allow(r) == {"GET", "PATCH", "DELETE"}
    assert r.json()["error"]["type"] == "method_not_allowed"
    r = client.post("/", headers=tenant_a.headers)  # the console's page
    assert r.status_code == 405 and _allow(r) == {"GET"}


def test_numbers_and_booleans_keep_their_json_types(client: TestClient,
                                                    tenant_a: Tenant) -> None:
    h = tenant_a.headers
    for settings in ({"graph": 0}, {"chunk_tokens": "64"}, {"chunk_overlap": False}):
        r = client.post("/v1/kbs", headers=h, json={"name": "typed", "settings": settings})
        assert r.status_code == 422, (settings, r.text)
    r = client.post("/v1/search", headers=h, json={"query": "x", "top_k": "5"})
    assert r.status_code == 422
    r = client.post("/v1/kbs", headers=h,
                    json={"name": "typed", "settings": {"chunk_tokens": 64.0, "graph": True}})
    assert r.status_code == 201, r.text
    assert r.json()["settings"]["chunk_tokens"] == 64


def test_days_are_iso_dates(client: TestClient, tenant_a: Tenant) -> None:
    h = tenant_a.headers
    assert client.get("/v1/usage?since=0", headers=h).status_code == 422
    assert client.get("/v1/usage/series?until=1700000000", headers=h).status_code == 422
    assert client.get("/v1/usage?since=2026-01-01", headers=h).status_code == 200
    assert client.get("/v1/usage/series?since=2026-01-01&until=2026-01-31",
                      headers=h).status_code == 200


def test_the_document_states_the_validators_rules(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    chat = spec["paths"]["/v1/assistants/{slug}/chat"]["post"]
    body = chat["requestBody"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    conversation = spec["components"]["schemas"][body]["properties"]["conversation_id"]
    maximum = conversation["anyOf"][0]["maximum"]
    assert float(maximum) == maximum  # exact as a JSON number (a double)
    config = spec["components"]["schemas"]["AssistantConfig"]
    assert config["then"]["properties"]["fallback_models"]["maxItems"] == 0
    upload = spec["paths"]["/v1/kbs/{kb}/documents"]["post"]["requestBody"]["content"]
    form = next(iter(upload.values()))["schema"]["$ref"].split("/")[-1]
    assert spec["components"]["schemas"][form]["properties"]["files"]["minItems"] == 1
    url = spec["components"]["schemas"]["UrlIn"]["properties"]["url"]
    assert url["pattern"].startswith("^[Hh][Tt][Tt][Pp]")


def test_nul_characters_are_bad_input_on_every_backend(client: TestClient,
                                                       tenant_a: Tenant) -> None:
    """PostgreSQL cannot store U+0000: a name with one is refused (400) or found nowhere (404),
    never a server error."""
    h = tenant_a.headers
    r = client.post("/v1/chat/completions", headers=h, json={
        "model": "bot\x00", "messages": [{"role": "user", "content": "hi"}]})
    assert r.status_code in (400, 404), r.text
    assert client.get("/v1/kbs/kb%00x", headers=h).status_code in (400, 404)
    r = client.post("/v1/kbs", headers=h, json={"name": "kb\x00x"})
    assert r.status_code in (201, 400, 422), r.text
