"""Eval runs are jobs of the queue: a start stores the run and queues its job together and
returns that run's id (two starts at once get two runs), and a worker that dies mid-run leaves a
job the queue retries, so the run ends done, or failed once its job is dead or cancelled."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_helpers import HANDBOOK, Tenant, api_settings, make_tenant, wait_job
from fastapi.testclient import TestClient

from zhiku.api.app import create_app
from zhiku.api.state import ApiState
from zhiku.jobs import Control, Job
from zhiku.jobs.queue import LOST

QUESTIONS = [
    {"id": "leave", "question": "How many days of paid annual leave do new employees get?",
     "expected_sources": ["handbook.md"]},
    {"id": "receipts", "question": "What do expense claims need?",
     "expected_sources": ["handbook.md"]},
]
START = {"eval_set": "hr-set", "kb": "hr", "top_k": 3}


def _world(home: Path, **settings: Any) -> Iterator[tuple[TestClient, Tenant, ApiState]]:
    """A knowledge base with one document and an eval set; no worker threads running."""
    config = api_settings(home, **settings)
    with TestClient(create_app(config)) as client:
        t = make_tenant(config, "acme")
        h = t.headers
        assert client.post("/v1/kbs", headers=h, json={"name": "hr"}).status_code == 201
        r = client.post("/v1/kbs/hr/documents", headers=h,
                        files=[("files", ("handbook.md", HANDBOOK.encode(), "text/markdown"))])
        assert wait_job(client, h, r.json()["id"])["status"] == "done"
        r = client.post("/v1/evals/sets", headers=h,
                        json={"name": "hr-set", "questions": QUESTIONS})
        assert r.status_code == 201, r.text
        state: ApiState = client.app.state.api  # type: ignore[attr-defined]
        state.jobs.stop()
        yield client, t, state


@pytest.fixture
def world(zhiku_home: Path) -> Iterator[tuple[TestClient, Tenant, ApiState]]:
    yield from _world(zhiku_home, jobs_lease_seconds=0.6)


def _run(client: TestClient, t: Tenant, run_id: int) -> dict[str, Any]:
    return dict(client.get(f"/v1/evals/runs/{run_id}", headers=t.headers).json())


def _eval_job(state: ApiState, run_id: int) -> Job:
    jobs = [j for j in state.jobs.queue.list() if j.kind == "eval"
            and j.payload["run_id"] == run_id]
    assert len(jobs) == 1
    return jobs[0]


def _wait_run(client: TestClient, t: Tenant, state: ApiState, run_id: int) -> dict[str, Any]:
    wait_job(client, t.headers, _eval_job(state, run_id).id)
    return _run(client, t, run_id)


def test_two_starts_at_once_get_two_runs(world: tuple[TestClient, Tenant, ApiState]) -> None:
    client, t, state = world
    barrier = threading.Barrier(2)
    started: list[dict[str, Any]] = []

    def start() -> None:
        barrier.wait()
        r = client.post("/v1/evals/runs", headers=t.headers, json=START)
        assert r.status_code == 202, r.text
        started.append(r.json())

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = sorted(run["id"] for run in started)
    assert len(set(ids)) == 2
    assert {run["status"] for run in started} == {"running"}
    assert {_eval_job(state, run_id).status for run_id in ids} == {"queued"}

    state.jobs.start(concurrency=2)
    for run_id in ids:
        run = _wait_run(client, t, state, run_id)
        assert run["status"] == "done" and run["summary"]["questions"] == len(QUESTIONS)


def test_a_run_whose_worker_died_is_run_again(
    world: tuple[TestClient, Tenant, ApiState],
) -> None:
    client, t, state = world
    run_id = client.post("/v1/evals/runs", headers=t.headers, json=START).json()["id"]
    # A worker elsewhere claims the run's job, executes all of it, and dies before recording
    # that the job is done.
    job = state.jobs.queue.claim("other-host:4242:worker-0")
    assert job is not None and job.kind == "eval" and job.payload["run_id"] == run_id
    state.jobs.handler(job, Control(state.jobs.queue, job, threading.Event()))

    state.jobs.start()  # this process takes the job over once the lease runs out
    done = wait_job(client, t.headers, job.id)
    assert done["status"] == "done" and done["attempts"] == 2
    run = _run(client, t, run_id)
    assert run["status"] == "done" and run["summary"]["questions"] == len(QUESTIONS)
    results = client.get(f"/v1/evals/runs/{run_id}/results", headers=t.headers).json()
    assert results["total"] == len(QUESTIONS)  # started over, not appended to


def test_a_run_whose_job_is_dead_is_failed(zhiku_home: Path) -> None:
    for client, t, state in _world(zhiku_home, jobs_lease_seconds=0.6, jobs_max_attempts=1):
        run_id = client.post("/v1/evals/runs", headers=t.headers, json=START).json()["id"]
        job = state.jobs.queue.claim("other-host:4242:worker-0")  # and never heard of again
        assert job is not None and job.payload["run_id"] == run_id
        assert _run(client, t, run_id)["status"] == "running"

        state.jobs.start()
        assert wait_job(client, t.headers, job.id)["status"] == "dead"
        run = _run(client, t, run_id)
        assert (run["status"], run["error"]) == ("failed", LOST)


def test_a_cancelled_run_is_failed(world: tuple[TestClient, Tenant, ApiState]) -> None:
    client, t, state = world
    run_id = client.post("/v1/evals/runs", headers=t.headers, json=START).json()["id"]
    zk = state.runtime.workspace(t.workspace_id)
    job = zk.jobs.cancel(_eval_job(state, run_id).id)
    assert (job.status, job.error) == ("failed", "cancelled")
    run = _run(client, t, run_id)
    assert (run["status"], run["error"]) == ("failed", "cancelled")
    state.jobs.start()
    assert _eval_job(state, run_id).status == "failed"  # a cancelled job is not claimed


def test_a_bad_start_stores_nothing(world: tuple[TestClient, Tenant, ApiState]) -> None:
    client, t, state = world
    r = client.post("/v1/evals/runs", headers=t.headers, json={**START, "eval_set": "nope"})
    assert r.status_code == 404
    r = client.post("/v1/evals/runs", headers=t.headers, json={**START, "kb": "nope"})
    assert r.status_code == 404
    assert client.get("/v1/evals/runs", headers=t.headers).json() == []
    assert not [j for j in state.jobs.queue.list() if j.kind == "eval"]


def test_a_run_of_an_assistant_is_listed_with_the_workspace_jobs(
    world: tuple[TestClient, Tenant, ApiState],
) -> None:
    client, t, state = world
    r = client.post("/v1/assistants", headers=t.headers,
                    json={"slug": "hr-bot", "name": "Bot", "config": {"knowledge_bases": ["hr"]}})
    assert r.status_code == 201, r.text
    run_id = client.post("/v1/evals/runs", headers=t.headers,
                         json={"eval_set": "hr-set", "assistant": "hr-bot"}).json()["id"]
    job = _eval_job(state, run_id)
    assert job.kb_id is None
    listed = client.get("/v1/jobs", headers=t.headers).json()
    assert (job.id, "eval") in {(j["id"], j["kind"]) for j in listed}
    assert job.id in [j.id for j in state.runtime.workspace(t.workspace_id).jobs.list()]
    state.jobs.start()
    assert _wait_run(client, t, state, run_id)["status"] == "done"
