"""One tenant's slow jobs do not hold up another's: with the default settings the server runs
several job threads, claims take turns between workspaces, and a workspace runs at most
``jobs_max_running_per_workspace`` jobs at once. A slow site on 127.0.0.1 drips tenant Y's
URLs until the test releases it."""

from __future__ import annotations

from pathlib import Path

from api_helpers import HANDBOOK, ZH_POLICY, api_settings, make_tenant, wait_job
from fastapi.testclient import TestClient
from slow_site import SlowSite

from zhiku.api.app import create_app
from zhiku.jobs import QueueOptions


def test_a_tenants_slow_urls_do_not_hold_up_another_tenant(zhiku_home: Path) -> None:
    site = SlowSite(interval=0.2, limit=60.0)
    settings = api_settings(zhiku_home, api_url_allowlist=[f"127.0.0.1:{site.port}"])
    cap = QueueOptions.of(settings, threads=settings.api_job_threads).max_running_per_workspace
    assert 0 < cap < settings.api_job_threads  # the server keeps a thread for other tenants
    try:
        with TestClient(create_app(settings)) as client:
            y = make_tenant(settings, "yoyodyne").headers
            x = make_tenant(settings, "xanadu").headers
            for h in (x, y):
                assert client.post("/v1/kbs", headers=h, json={"name": "kb"}).status_code == 201
            slow = [
                client.post("/v1/kbs/kb/documents/url", headers=y,
                            json={"url": site.url(f"/drip?n={n}")}).json()["id"]
                for n in range(cap)
            ]
            uploads = [
                client.post("/v1/kbs/kb/documents", headers=y, files=[
                    ("files", (f"y-{n}.md", HANDBOOK.encode(), "text/markdown"))]).json()["id"]
                for n in range(3)
            ]
            mine = client.post("/v1/kbs/kb/documents", headers=x, files=[
                ("files", ("x.md", ZH_POLICY.encode(), "text/markdown"))]).json()["id"]

            assert wait_job(client, x, mine, timeout=60)["status"] == "done"
            # X's upload, queued last, finished while Y's slow URLs still run and Y's other
            # jobs wait for them
            for job_id in slow:
                assert client.get(f"/v1/jobs/{job_id}", headers=y).json()["status"] == "running"
            assert {client.get(f"/v1/jobs/{job_id}", headers=y).json()["status"]
                    for job_id in uploads} == {"queued"}

            site.released.set()
            assert {wait_job(client, y, job_id, timeout=60)["status"]
                    for job_id in [*slow, *uploads]} == {"done"}
    finally:
        site.close()
