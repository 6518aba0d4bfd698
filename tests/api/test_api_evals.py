"""Evaluation over HTTP: create a set, start runs against a knowledge base and an assistant,
read them back with per-question results and failing questions, compare two runs (paired
bootstrap), and the access rules (read to look, write to start, no scoped keys, tenants apart)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from api_helpers import Tenant, api_settings, make_tenant, seed
from fastapi.testclient import TestClient

from waiting import wait_until
from zhiku.api.app import create_app

QUESTIONS = [
    {"id": "leave", "question": "How many days of paid annual leave do new employees get?",
     "expected_sources": ["handbook.md"], "reference_answers": ["fifteen days"]},
    {"id": "receipts", "question": "What do expense claims need?",
     "expected_sources": ["handbook.md"], "reference_answers": ["the original receipt"]},
    {"id": "parking", "question": "Where do visitors park their spaceships?",
     "answerable": False, "tags": ["unanswerable"]},
]


def wait_run(client: TestClient, headers: dict[str, str], run_id: int) -> dict[str, Any]:
    """Poll a run until it is done or failed."""

    def finished() -> dict[str, Any] | None:
        run = client.get(f"/v1/evals/runs/{run_id}", headers=headers).json()
        return dict(run) if run["status"] != "running" else None

    return wait_until(finished, 60, f"eval run {run_id} to finish", interval=0.1)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    settings = api_settings(tmp_path_factory.mktemp("evals-api"))
    with TestClient(create_app(settings)) as client:
        a, b = make_tenant(settings, "acme"), make_tenant(settings, "globex")
        seed(client, a, "hr")
        r = client.post("/v1/evals/sets", headers=a.headers,
                        json={"name": "hr-set", "description": "smoke", "questions": QUESTIONS})
        assert r.status_code == 201, r.text
        runs = []
        for body in ({"kb": "hr", "top_k": 5}, {"kb": "hr", "top_k": 5, "mode": "keyword"},
                     {"assistant": "hr-bot", "top_k": 3}):
            r = client.post("/v1/evals/runs", headers=a.headers,
                            json={"eval_set": "hr-set", **body})
            assert r.status_code == 202, r.text
            runs.append(wait_run(client, a.headers, r.json()["id"]))
        yield {"client": client, "a": a, "b": b, "runs": runs}


def test_sets_and_questions(world: dict[str, Any]) -> None:
    client, a = world["client"], world["a"]
    sets = client.get("/v1/evals/sets", headers=a.headers).json()
    assert [(s["name"], s["size"], s["origin"]) for s in sets] == [("hr-set", 3, "api")]
    qs = client.get("/v1/evals/sets/hr-set/questions", headers=a.headers).json()
    assert [q["id"] for q in qs] == ["leave", "receipts", "parking"]
    assert qs[0]["expected_sources"] == {"handbook.md": 1} and qs[2]["answerable"] is False
    # a second set of the same name is a conflict unless replaced; a bad question is a 400
    body = {"name": "hr-set", "questions": QUESTIONS[:1]}
    assert client.post("/v1/evals/sets", headers=a.headers, json=body).status_code == 409
    perhaps = {"question": "x", "answerable": "perhaps"}
    bad = client.post("/v1/evals/sets", headers=a.headers,
                      json={"name": "bad", "questions": [perhaps]})
    assert bad.status_code == 400 and "question 1" in bad.json()["error"]["message"]
    missing = client.get("/v1/evals/sets/nope/questions", headers=a.headers)
    assert missing.status_code == 404


def test_runs_have_summaries_results_and_failures(world: dict[str, Any]) -> None:
    client, a = world["client"], world["a"]
    kb_run, keyword_run, app_run = world["runs"]
    assert kb_run["status"] == "done" and kb_run["target"] == "kb:hr"
    assert keyword_run["target"] == "kb:hr?mode=keyword"
    assert app_run["target"] == "app:hr-bot" and app_run["config"]["top_k"] == 3
    assert kb_run["summary"]["questions"] == 3 and kb_run["key_metric"] == "ndcg@5"
    dist = kb_run["distributions"]
    leave = dist["metrics"]["hit@5"]
    assert leave["n"] == 2 and sum(leave["histogram"]) == 2 and leave["low"] <= leave["high"]
    assert len(dist["latency"]["histogram"]) == 10
    listed = client.get("/v1/evals/runs", headers=a.headers).json()
    assert [r["id"] for r in listed] == [app_run["id"], keyword_run["id"], kb_run["id"]]
    assert client.get("/v1/evals/runs?set=other", headers=a.headers).json() == []

    page = client.get(f"/v1/evals/runs/{kb_run['id']}/results", headers=a.headers).json()
    assert page["total"] == 3
    first = page["results"][0]
    assert first["id"] == "leave" and first["retrieved"][0]["source"] == "handbook.md"
    assert "fifteen" in first["answer"] and first["reference_answers"] == ["fifteen days"]
    assert first["metrics"]["hit@5"] == 1.0  # found, but a long extractive answer: F1 < 0.5
    assert first["metrics"]["f1"] < 0.5 and first["metrics"]["contains_answer"] == 1.0
    assert first["failed"] is False and first["reasons"] == []  # it holds the reference
    failing = client.get(f"/v1/evals/runs/{kb_run['id']}/results?failing=true",
                         headers=a.headers).json()
    assert failing["total"] == dist["failing"]
    assert all(r["failed"] for r in failing["results"])
    one = client.get(f"/v1/evals/runs/{kb_run['id']}/results?offset=1&limit=1",
                     headers=a.headers).json()
    assert [r["id"] for r in one["results"]] == ["receipts"] and one["total"] == 3


def test_compare_two_runs(world: dict[str, Any]) -> None:
    client, a = world["client"], world["a"]
    kb_run, keyword_run, _ = world["runs"]
    r = client.get(f"/v1/evals/compare?a={kb_run['id']}&b={keyword_run['id']}", headers=a.headers)
    assert r.status_code == 200, r.text
    cmp = r.json()
    assert cmp["run_a"]["id"] == kb_run["id"] and cmp["key_metric"] == "ndcg@5"
    deltas = {d["metric"]: d for d in cmp["deltas"]}
    hit = deltas["hit@5"]
    assert hit["n"] == 2 and hit["low"] <= hit["delta"] <= hit["high"]
    assert isinstance(hit["significant"], bool)
    assert cmp["only_in_a"] == cmp["only_in_b"] == 0
    assert client.get("/v1/evals/compare?a=1&b=999", headers=a.headers).status_code == 404


def test_start_errors(world: dict[str, Any]) -> None:
    client, a = world["client"], world["a"]
    cases = [
        ({"eval_set": "hr-set"}, 400), ({"eval_set": "hr-set", "kb": "hr", "assistant": "x"}, 400),
        ({"eval_set": "nope", "kb": "hr"}, 404), ({"eval_set": "hr-set", "kb": "nope"}, 404),
        ({"eval_set": "hr-set", "assistant": "nope"}, 404),
        ({"eval_set": "hr-set", "assistant": "hr-bot", "mode": "vector"}, 400),
        ({"eval_set": "hr-set", "kb": "hr", "top_k": 0}, 422),
    ]
    for body, status in cases:
        r = client.post("/v1/evals/runs", headers=a.headers, json=body)
        assert r.status_code == status, (body, r.text)
        assert set(r.json()) == {"error"}


def test_access(world: dict[str, Any]) -> None:
    client, a, b = world["client"], world["a"], world["b"]
    run_id = world["runs"][0]["id"]
    reader = {"Authorization": f"Bearer {a.ids['read_key']}"}
    assert client.get(f"/v1/evals/runs/{run_id}", headers=reader).status_code == 200
    r = client.post("/v1/evals/runs", headers=reader, json={"eval_set": "hr-set", "kb": "hr"})
    assert r.status_code == 403
    scoped = client.post("/v1/keys", headers=a.headers,
                         json={"access": "admin", "knowledge_bases": ["hr"]}).json()["key"]
    r = client.get("/v1/evals/runs", headers={"Authorization": f"Bearer {scoped}"})
    assert r.status_code == 403 and r.json()["error"]["type"] == "forbidden"
    other: Tenant = b
    assert client.get("/v1/evals/runs", headers=other.headers).json() == []
    assert client.get("/v1/evals/sets", headers=other.headers).json() == []
    for path in (f"/v1/evals/runs/{run_id}", f"/v1/evals/runs/{run_id}/results",
                 "/v1/evals/sets/hr-set/questions", f"/v1/evals/compare?a={run_id}&b={run_id}"):
        assert client.get(path, headers=other.headers).status_code == 404, path
