"""Provable releases of a workflow over HTTP at ``/v1/apps/{slug}/...``: bind it to an eval set,
read its scorecard, a worse draft's publish refused (409 naming the metric, at
``/v1/apps`` and at ``/v1/workflows``), a forced one
recorded with the calling key, the gate failing after a knowledge base change; an assistant's
releases work at the same routes, and a key limited to some names is refused."""

from __future__ import annotations

from api_helpers import Tenant
from fastapi.testclient import TestClient

from releasedata import break_kb, flow, seed


def test_workflow_releases_over_http(client: TestClient, tenant_a: Tenant) -> None:
    zk = client.app.state.api.runtime.workspace(tenant_a.workspace_id)
    seed(zk)
    zk.workflows.create("HR flow", flow(), slug="hr-flow")
    h = tenant_a.headers
    url = "/v1/apps/hr-flow"
    assert client.post(f"{url}/publish", headers=h, json={}).status_code == 200

    r = client.get(f"{url}/scorecard", headers=h)
    assert r.status_code == 400 and "workflow 'hr-flow' is not bound" in r.json()["error"][
        "message"]
    r = client.put(f"{url}/eval-set", headers=h, json={"eval_set": "hr"})
    assert r.status_code == 200, r.text
    assert r.json()["eval_set"] == "hr"
    card = client.get(f"{url}/scorecard", headers=h).json()
    assert card["passed"] is True and card["candidate"]["target"] == "workflow:hr-flow@draft"

    zk.workflows.update("hr-flow", flow(top_k=1, min_relevance=0.99))
    r = client.post(f"{url}/publish", headers=h, json={"note": "stricter"})
    assert r.status_code == 409, r.text
    error = r.json()["error"]
    assert "draft is worse than v1 on 'hr'" in error["message"] and "f1: " in error["message"]
    assert "f1" in {d["metric"] for d in error["regressions"]}
    r = client.post("/v1/workflows/hr-flow/publish", headers=h, json={})
    assert r.status_code == 409 and "f1: " in r.json()["error"]["message"]  # the same gate
    r = client.post(f"{url}/publish", headers=h,
                    json={"note": "stricter", "force": True, "reason": "on purpose"})
    assert r.status_code == 200 and r.json()["live_version"] == 2
    v2, v1 = client.get(f"{url}/versions", headers=h).json()
    assert v2["release"]["forced_by"] == "key:admin"
    assert v2["release"]["force_reason"] == "on purpose"
    assert v1["release"] is None

    assert client.post(f"{url}/rollback", headers=h, json={}).json()["live_version"] == 1
    r = client.post(f"{url}/gate", headers=h)
    assert r.status_code == 200 and r.json()["passed"] is True
    break_kb(zk)
    r = client.post(f"{url}/gate", headers=h)
    assert r.status_code == 200 and r.json()["passed"] is False
    assert "ndcg@10" in {d["metric"] for d in r.json()["regressions"]}

    # an assistant at the same routes; the assistants' routes do not reach a workflow
    r = client.put("/v1/apps/hr-bot/eval-set", headers=h, json={"eval_set": "hr"})
    assert r.status_code == 200
    assert client.get("/v1/apps/hr-bot/scorecard", headers=h).json()["app"] == "hr-bot"
    r = client.get("/v1/assistants/hr-flow/scorecard", headers=h)
    assert r.status_code == 404
    r = client.put(f"{url}/eval-set", headers=h, json={"eval_set": None})
    assert r.status_code == 200 and r.json()["eval_set"] is None


def test_a_scoped_key_cannot_bind_an_app(client: TestClient, tenant_a: Tenant) -> None:
    zk = client.app.state.api.runtime.workspace(tenant_a.workspace_id)
    seed(zk)
    zk.workflows.create("HR flow", flow(), slug="hr-flow")
    key = client.post("/v1/keys", headers=tenant_a.headers, json={
        "name": "bot only", "access": "read_write", "assistants": ["hr-bot"]}).json()["key"]
    scoped = {"Authorization": f"Bearer {key}"}
    for slug in ("hr-flow", "hr-bot"):
        r = client.put(f"/v1/apps/{slug}/eval-set", headers=scoped, json={"eval_set": "hr"})
        assert r.status_code == 403, r.text
