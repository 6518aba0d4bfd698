"""A URL fetch has a deadline for the whole of it, not only a timeout per read: a server that
drips its answer a byte at a time (or says nothing) fails the fetch, and its job, once the
deadline passes; the job fails as bad input, without retries. A slow site on 127.0.0.1 (allowed
through the allow-list) plays the server."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_helpers import api_settings, make_tenant, wait_job
from fastapi.testclient import TestClient
from slow_site import PAGE, SlowSite

from zhiku.api.app import create_app
from zhiku.ingest.fetch import FetchTimeout, UrlPolicy, fetch


@pytest.fixture
def site() -> Iterator[SlowSite]:
    slow = SlowSite(interval=0.1, limit=30.0)  # the page would take about 8 s to drip
    yield slow
    slow.close()


@pytest.mark.parametrize("path", ["/drip", "/drip-headers"])
def test_a_dripping_answer_stops_at_the_deadline(site: SlowSite, path: str) -> None:
    policy = UrlPolicy([f"127.0.0.1:{site.port}"])
    started = time.monotonic()
    with pytest.raises(FetchTimeout, match="longer than 1 seconds"):
        fetch(site.url(path), policy, max_bytes=10_000, timeout=5.0, deadline=1.0)
    took = time.monotonic() - started
    assert took < 5.0, took  # well before the page was whole, and before any read timed out
    assert not site.released.is_set()


def test_a_silent_server_times_out_per_read_or_by_the_deadline(site: SlowSite) -> None:
    policy = UrlPolicy([f"127.0.0.1:{site.port}"])
    with pytest.raises(FetchTimeout, match=r"did not answer within 0\.5 seconds"):
        fetch(site.url("/silent"), policy, max_bytes=10_000, timeout=0.5, deadline=30.0)
    started = time.monotonic()
    with pytest.raises(FetchTimeout, match=r"longer than 0\.5 seconds"):
        fetch(site.url("/silent"), policy, max_bytes=10_000, timeout=20.0, deadline=0.5)
    assert time.monotonic() - started < 10.0


def test_a_fetch_within_its_deadline_is_whole(site: SlowSite) -> None:
    policy = UrlPolicy([f"127.0.0.1:{site.port}"])
    got = fetch(site.url("/fast"), policy, max_bytes=10_000, timeout=5.0, deadline=5.0)
    assert got.data == PAGE and got.content_type == "text/html"
    site.released.set()  # a released drip completes at once: no deadline is hit
    got = fetch(site.url("/drip"), policy, max_bytes=10_000, timeout=5.0, deadline=5.0)
    assert got.data == PAGE


def test_a_url_past_the_deadline_fails_its_job_once(site: SlowSite, zhiku_home: Path) -> None:
    settings = api_settings(zhiku_home, api_url_allowlist=[f"127.0.0.1:{site.port}"],
                            api_url_deadline=1.0, jobs_retry_seconds=0.0)
    with TestClient(create_app(settings)) as client:
        t = make_tenant(settings, "acme")
        h = t.headers
        client.post("/v1/kbs", headers=h, json={"name": "web"})
        r = client.post("/v1/kbs/web/documents/url", headers=h, json={"url": site.url("/drip")})
        assert r.status_code == 202, r.text
        job = wait_job(client, h, r.json()["id"], timeout=20)
        assert job["status"] == "failed", job
        assert "longer than 1 seconds" in job["error"]
        assert job["attempts"] == 1  # bad input: not retried
        r = client.post("/v1/kbs/web/documents/url", headers=h, json={"url": site.url("/fast")})
        assert wait_job(client, h, r.json()["id"], timeout=20)["status"] == "done"
