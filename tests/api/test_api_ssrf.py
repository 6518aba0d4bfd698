"""URL ingestion refuses loopback, private, link-local and metadata addresses — after DNS and
on every redirect — unless the allow-list permits; a local HTTP server plays the internet."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from api_helpers import api_settings, make_tenant, wait_job
from fastapi.testclient import TestClient

from zhiku.api.app import create_app
from zhiku.api.ssrf import BlockedAddress, UrlPolicy, fetch, is_internal

PAGE = b"<html><head><title>Leave</title></head><body><p>Staff get twenty days of leave.</p>"


def _server(redirects: dict[str, str]) -> tuple[ThreadingHTTPServer, int]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path in redirects:
                self.send_response(302)
                self.send_header("Location", redirects[self.path])
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(PAGE)))
            self.end_headers()
            self.wfile.write(PAGE)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, int(server.server_address[1])


@pytest.fixture
def site() -> Iterator[int]:
    other, other_port = _server({})
    server, port = _server({
        "/to-metadata": "http://169.254.169.254/latest/meta-data/",
        "/to-ten": "http://10.0.0.7/internal",
        "/to-loopback": f"http://127.0.0.1:{other_port}/page",
        "/to-localhost": f"http://localhost:{other_port}/page",
        "/to-ipv6-loopback": f"http://[::1]:{other_port}/page",
        "/to-ok": "/page.html",
    })
    yield port
    for srv in (server, other):
        srv.shutdown()
        srv.server_close()


@pytest.mark.parametrize("addr", ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1",
                                  "169.254.169.254", "::1", "fe80::1", "100.64.0.1",
                                  "0.0.0.0", "::ffff:127.0.0.1", "fd00:ec2::254"])
def test_internal_addresses(addr: str) -> None:
    import ipaddress

    assert is_internal(ipaddress.ip_address(addr))


@pytest.mark.parametrize("url", ["http://127.0.0.1/", "http://10.0.0.1/x",
                                 "http://169.254.169.254/latest/meta-data/", "http://localhost/",
                                 "http://[::1]/", "http://2130706433/"])
def test_direct_internal_urls_are_refused(url: str) -> None:
    with pytest.raises(BlockedAddress):
        fetch(url, UrlPolicy(), max_bytes=10_000)


@pytest.mark.parametrize("path", ["/to-metadata", "/to-ten", "/to-loopback", "/to-localhost",
                                  "/to-ipv6-loopback"])
def test_redirects_to_internal_addresses_are_refused(site: int, path: str) -> None:
    policy = UrlPolicy([f"127.0.0.1:{site}"])  # only the first hop is allowed
    with pytest.raises(BlockedAddress):
        fetch(f"http://127.0.0.1:{site}{path}", policy, max_bytes=10_000)


def test_allow_listed_fetch_and_same_host_redirect(site: int) -> None:
    got = fetch(f"http://127.0.0.1:{site}/to-ok", UrlPolicy([f"127.0.0.1:{site}"]),
                max_bytes=10_000)
    assert got.data == PAGE and got.url.endswith("/page.html")
    assert got.content_type == "text/html"
    with pytest.raises(Exception, match="over"):
        fetch(f"http://127.0.0.1:{site}/page", UrlPolicy(["127.0.0.0/8"]), max_bytes=10)


def test_url_ingestion_through_the_api(site: int, zhiku_home: Path) -> None:
    settings = api_settings(zhiku_home, api_url_allowlist=[f"127.0.0.1:{site}"])
    with TestClient(create_app(settings)) as client:
        t = make_tenant(settings, "acme")
        h = t.headers
        client.post("/v1/kbs", headers=h, json={"name": "web"})
        r = client.post("/v1/kbs/web/documents/url", headers=h,
                        json={"url": "http://169.254.169.254/latest/meta-data/"})
        assert r.status_code == 400 and r.json()["error"]["type"] == "blocked_url"
        r = client.post("/v1/kbs/web/documents/url", headers=h,
                        json={"url": f"http://127.0.0.1:{site}/to-metadata"})
        failed = wait_job(client, h, r.json()["id"])
        assert failed["status"] == "failed" and "internal address" in failed["error"]
        r = client.post("/v1/kbs/web/documents/url", headers=h,
                        json={"url": f"http://127.0.0.1:{site}/leave", "metadata": {"k": 1}})
        done = wait_job(client, h, r.json()["id"])
        assert done["status"] == "done", done
        doc = client.get("/v1/kbs/web/documents", headers=h).json()[0]
        assert doc["source"].startswith(f"http://127.0.0.1:{site}/leave")
        assert doc["metadata"]["url"].endswith("/leave")
        original = client.get(f"/v1/kbs/web/documents/{doc['id']}/original", headers=h)
        assert original.content == PAGE
        hits = client.post("/v1/search", headers=h, json={"query": "twenty days of leave"})
        assert hits.json()["hits"][0]["document_id"] == doc["id"]
