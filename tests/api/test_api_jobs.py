"""Jobs through the API: a job whose worker died is retried without duplicating anything; a job
that keeps failing ends dead, is listed, and an admin's retry runs it again; a server that
leaves jobs to separate workers is still ready."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from api_helpers import HANDBOOK, ZH_POLICY, api_settings, make_tenant, wait_job
from fastapi.testclient import TestClient

from zhiku.api.app import create_app
from zhiku.api.state import ApiState
from zhiku.jobs import Control

PAGE = b"<html><head><title>Leave</title></head><body><p>Staff get twenty days of leave.</p>"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve_page(port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(PAGE)))
            self.end_headers()
            self.wfile.write(PAGE)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_a_job_whose_worker_died_is_retried_once(zhiku_home: Path) -> None:
    settings = api_settings(zhiku_home, jobs_lease_seconds=0.6)
    with TestClient(create_app(settings, worker=False)) as client:
        t = make_tenant(settings, "acme")
        h = t.headers
        client.post("/v1/kbs", headers=h, json={"name": "hr"})
        queued = client.post("/v1/kbs/hr/documents", headers=h, files=[
            ("files", ("handbook.md", HANDBOOK.encode(), "text/markdown")),
            ("files", ("报销.md", ZH_POLICY.encode(), "text/markdown"))]).json()
        assert queued["status"] == "queued" and queued["attempts"] == 0
        state: ApiState = client.app.state.api  # type: ignore[attr-defined]
        jobs = state.jobs
        # A worker on another machine claims the job, does all of its work, and dies before
        # recording that it is done.
        job = jobs.queue.claim("other-host:4242:worker-0")
        assert job is not None and job.id == queued["id"]
        jobs.handler(job, Control(jobs.queue, job, threading.Event()))
        first = _chunk_ids(client, h)
        assert client.get(f"/v1/jobs/{job.id}", headers=h).json()["status"] == "running"

        jobs.start()  # this process's worker takes it over once the lease runs out
        done = wait_job(client, h, job.id)
        assert done["status"] == "done" and done["attempts"] == 2
        assert {f["status"] for f in done["files"]} == {"unchanged"}
        assert _chunk_ids(client, h) == first  # the same documents and chunks, once each
        docs = client.get("/v1/kbs/hr/documents", headers=h).json()
        assert {d["status"] for d in docs} == {"ready"}


def _chunk_ids(client: TestClient, h: dict[str, str]) -> dict[str, list[int]]:
    """Chunk ids per document source."""
    out = {}
    for doc in client.get("/v1/kbs/hr/documents", headers=h).json():
        chunks = client.get(f"/v1/kbs/hr/documents/{doc['id']}/chunks", headers=h).json()
        assert len(chunks) == doc["chunk_count"] > 0
        out[doc["source"]] = [c["id"] for c in chunks]
    assert out.keys() == {"handbook.md", "报销.md"}
    return out


def test_jobs_for_one_source_at_once_leave_one_document(zhiku_home: Path) -> None:
    settings = api_settings(zhiku_home, jobs_max_running_per_workspace=4)
    versions = [HANDBOOK, HANDBOOK.replace("fifteen", "twenty")]
    with TestClient(create_app(settings, worker=False)) as client:
        t = make_tenant(settings, "acme")
        h = t.headers
        client.post("/v1/kbs", headers=h, json={"name": "hr"})
        ids = [
            client.post("/v1/kbs/hr/documents", headers=h, files=[
                ("files", ("handbook.md", versions[n % 2].encode(), "text/markdown")),
                ("files", (f"other-{n}.md", ZH_POLICY.encode(), "text/markdown"))]).json()["id"]
            for n in range(6)
        ]
        state: ApiState = client.app.state.api  # type: ignore[attr-defined]
        state.jobs.start(concurrency=4)  # four threads take the six jobs at once
        assert {wait_job(client, h, i)["status"] for i in ids} == {"done"}
        docs = client.get("/v1/kbs/hr/documents", headers=h).json()
        assert sorted(d["source"] for d in docs) == sorted(
            ["handbook.md", *(f"other-{n}.md" for n in range(6))])
        assert {d["status"] for d in docs} == {"ready"}
        handbook = next(d for d in docs if d["source"] == "handbook.md")
        chunks = client.get(f"/v1/kbs/hr/documents/{handbook['id']}/chunks", headers=h).json()
        text = "\n".join(c["text"] for c in chunks)
        assert len(chunks) == handbook["chunk_count"]
        assert ("fifteen" in text) != ("twenty" in text)  # one whole version, not a mix
        hits = client.post("/v1/search", headers=h,
                           json={"query": "paid annual leave", "top_k": 20}).json()["hits"]
        ids_seen = [hit["chunk_id"] for hit in hits]
        assert len(ids_seen) == len(set(ids_seen))
        assert {hit["document_id"] for hit in hits if hit["source"] == "handbook.md"} == {
            handbook["id"]}


def test_a_job_that_keeps_failing_ends_dead_and_can_be_retried(zhiku_home: Path) -> None:
    port = _free_port()  # nothing listens here yet: every fetch is refused
    settings = api_settings(zhiku_home, api_url_allowlist=[f"127.0.0.1:{port}"],
                            jobs_max_attempts=2, jobs_retry_seconds=0)
    with TestClient(create_app(settings)) as client:
        t = make_tenant(settings, "acme")
        h = t.headers
        client.post("/v1/kbs", headers=h, json={"name": "web"})
        url = f"http://127.0.0.1:{port}/leave.html"
        r = client.post("/v1/kbs/web/documents/url", headers=h, json={"url": url})
        dead = wait_job(client, h, r.json()["id"])
        assert dead["status"] == "dead" and dead["attempts"] == dead["max_attempts"] == 2
        assert dead["error"] == "internal error (ConnectError)"

        listed = client.get("/v1/kbs/web/jobs", headers=h, params={"status": "dead"}).json()
        assert [j["id"] for j in listed] == [dead["id"]]
        assert client.get("/v1/kbs/web/jobs", headers=h, params={"status": "done"}).json() == []
        assert [j["id"] for j in client.get("/v1/jobs?status=dead", headers=h).json()] == [
            dead["id"]]
        assert client.get("/v1/kbs/web/jobs?status=nope", headers=h).status_code == 422
        metrics = client.get("/metrics", headers=h).text
        assert 'zhiku_jobs{status="dead"} 1.0' in metrics

        reader = client.post("/v1/keys", headers=h, json={"name": "r", "access": "read"}).json()
        rh = {"Authorization": f"Bearer {reader['key']}"}
        assert client.get("/v1/jobs", headers=rh).status_code == 403
        assert client.post(f"/v1/jobs/{dead['id']}/retry", headers=rh).status_code == 403
        assert client.get("/v1/kbs/web/jobs?status=dead", headers=rh).status_code == 200

        server = _serve_page(port)  # the site is back: an admin retries the job
        try:
            r = client.post(f"/v1/jobs/{dead['id']}/retry", headers=h)
            assert r.status_code == 202 and r.json()["attempts"] == 0 and r.json()["error"] is None
            done = wait_job(client, h, dead["id"])
        finally:
            server.shutdown()
            server.server_close()
        assert done["status"] == "done" and done["attempts"] == 1
        assert done["files"][0]["status"] == "added"
        r = client.post(f"/v1/jobs/{dead['id']}/retry", headers=h)
        assert r.status_code == 409 and r.json()["error"]["type"] == "conflict"


def test_a_server_without_jobs_is_ready_and_leaves_them_queued(zhiku_home: Path) -> None:
    settings = api_settings(zhiku_home, api_run_jobs=False)
    with TestClient(create_app(settings)) as client:
        assert client.get("/readyz").json() == {"status": "ready"}
        t = make_tenant(settings, "acme")
        client.post("/v1/kbs", headers=t.headers, json={"name": "hr"})
        job = client.post("/v1/kbs/hr/documents", headers=t.headers, files=[
            ("files", ("handbook.md", HANDBOOK.encode(), "text/markdown"))]).json()
        assert job["status"] == "queued" and job["run_after"]
        assert client.get(f"/v1/jobs/{job['id']}", headers=t.headers).json()["status"] == "queued"
