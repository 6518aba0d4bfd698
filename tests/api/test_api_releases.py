"""Provable releases over HTTP: bind an assistant to an eval set, read the scorecard, a refused
publish (409 naming the metric, its values and the interval), a forced one recorded with the
calling key in the versions, the gate before and after a knowledge base change, rollback."""

from __future__ import annotations

from typing import Any

from api_helpers import Tenant
from fastapi.testclient import TestClient

from releasedata import break_kb, seed


def test_releases_over_http(client: TestClient, tenant_a: Tenant) -> None:
    zk = client.app.state.api.runtime.workspace(tenant_a.workspace_id)
    seed(zk)
    h = tenant_a.headers
    url = "/v1/assistants/hr-bot"

    r = client.get(f"{url}/scorecard", headers=h)
    assert r.status_code == 400 and "not bound" in r.json()["error"]["message"]
    r = client.put(f"{url}/eval-set", headers=h, json={"eval_set": "no-such-set"})
    assert r.status_code == 404
    r = client.put(f"{url}/eval-set", headers=h, json={"eval_set": "hr", "metrics": ["nope"]})
    assert r.status_code == 400 and "unknown metric 'nope'" in r.json()["error"]["message"]
    r = client.put(f"{url}/eval-set", headers=h, json={"eval_set": "hr", "top_k": 5})
    assert r.status_code == 200, r.text
    assert (r.json()["eval_set"], r.json()["top_k"], r.json()["metrics"]) == ("hr", 5, [])

    r = client.patch(url, headers=h, json={"config": {
        "knowledge_bases": ["hr"], "retrieval": {"min_relevance": 0.99}}})
    assert r.status_code == 200, r.text
    card = client.get(f"{url}/scorecard", headers=h).json()
    assert card["passed"] is False and card["eval_set"] == "hr"
    assert (card["candidate"]["label"], card["baseline"]["label"]) == ("draft", "v1")
    assert card["primary"] == ["ndcg@5", "refusal", "f1", "citation_recall"]
    assert "cost" in card["candidate"]["summary"]

    r = client.post(f"{url}/publish", headers=h, json={"note": "stricter"})
    assert r.status_code == 409, r.text
    error = r.json()["error"]
    assert error["type"] == "conflict"
    assert "refusal: 1.0000 → 0.0000 (Δ -1.0000, 95% paired-bootstrap interval" in error["message"]
    refusal = next(d for d in error["regressions"] if d["metric"] == "refusal")
    assert (refusal["a"], refusal["b"], refusal["low"], refusal["high"]) == (1.0, 0.0, -1.0, -1.0)

    r = client.post(f"{url}/publish", headers=h, json={"force": True})
    assert r.status_code == 400 and "needs a reason" in r.json()["error"]["message"]
    r = client.post(f"{url}/publish", headers=h,
                    json={"note": "stricter", "force": True, "reason": "compliance"})
    assert r.status_code == 200 and r.json()["published_version"] == 2
    v2, v1 = client.get(f"{url}/versions", headers=h).json()
    assert v2["live"] and v2["release"]["forced_by"] == "key:admin"
    assert v2["release"]["force_reason"] == "compliance"
    assert "refusal" in {d["metric"] for d in v2["release"]["regressions"]}
    assert v1["release"] is None and not v1["live"]

    r = client.post(f"{url}/rollback", headers=h, json={})
    assert r.status_code == 200 and r.json()["published_version"] == 1
    gate = client.post(f"{url}/gate", headers=h)
    assert gate.status_code == 200 and gate.json()["passed"] is True
    assert gate.json()["baseline"]["reused"] is True
    break_kb(zk)
    gate = client.post(f"{url}/gate", headers=h).json()
    assert gate["passed"] is False
    assert {"ndcg@5", "refusal"} <= {d["metric"] for d in gate["regressions"]}

    r = client.put(f"{url}/eval-set", headers=h, json={"eval_set": None})
    assert r.status_code == 200 and r.json()["eval_set"] is None
    r = client.post(f"{url}/publish", headers=h, json={})  # unbound: published unchecked
    assert r.status_code == 200 and r.json()["published_version"] == 3


def test_scorecards_need_a_key_that_reaches_the_whole_set(
    client: TestClient, tenant_a: Tenant
) -> None:
    zk = client.app.state.api.runtime.workspace(tenant_a.workspace_id)
    seed(zk)
    zk.releases.bind("hr-bot", "hr")
    made: dict[str, Any] = client.post("/v1/keys", headers=tenant_a.headers, json={
        "name": "bot-only", "access": "read_write", "assistants": ["hr-bot"]}).json()
    h = {"Authorization": f"Bearer {made['key']}"}
    assert client.get("/v1/assistants/hr-bot", headers=h).status_code == 200
    for method, path in (("GET", "scorecard"), ("POST", "gate")):
        r = client.request(method, f"/v1/assistants/hr-bot/{path}", headers=h)
        assert r.status_code == 403, (path, r.text)
    r = client.post("/v1/assistants/hr-bot/publish", headers=h, json={})
    assert r.status_code == 200  # the gate runs for whoever may publish
