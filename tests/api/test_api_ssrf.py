"""URL ingestion refuses loopback, private, link-local and metadata addresses — after DNS and
on every redirect — unless the allow-list permits; a local HTTP server plays the internet.
IPv6 literals are addresses like any other: public ones can be ingested, and those that carry an
internal IPv4 address (mapped, 6to4, NAT64, Teredo) are refused as internal."""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from api_helpers import api_settings, make_tenant, wait_job
from fastapi.testclient import TestClient

from zhiku.api.app import create_app
from zhiku.ingest.fetch import BlockedAddress, UrlPolicy, embedded_ipv4, fetch, is_internal

PAGE = b"<html><head><title>Leave</title></head><body><p>Staff get twenty days of leave.</p>"
# IPv6 addresses that lead to internal IPv4 ones: 6to4 of 127.0.0.1, 10.0.0.1 and the metadata
# address, NAT64 of 127.0.0.1 and of the metadata address, a Teredo address whose client is
# 127.0.0.1 (its server is 8.8.8.8), and the site-specific NAT64 prefix.
EMBEDDING_INTERNAL = ["2002:7f00:1::", "2002:a00:1::1", "2002:a9fe:a9fe::", "64:ff9b::7f00:1",
                      "64:ff9b::a9fe:a9fe", "2001:0:808:808::80ff:fffe", "64:ff9b:1::808:808"]


class _V6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


def _server(redirects: dict[str, str], host: str = "127.0.0.1",
            seen: list[str] | None = None) -> tuple[ThreadingHTTPServer, int]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if seen is not None:
                seen.append(self.headers.get("Host", ""))
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

    server = (_V6Server if ":" in host else ThreadingHTTPServer)((host, 0), Handler)
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
                                  "0.0.0.0", "::ffff:127.0.0.1", "fd00:ec2::254", "::",
                                  *EMBEDDING_INTERNAL])
def test_internal_addresses(addr: str) -> None:
    assert is_internal(ipaddress.ip_address(addr))


@pytest.mark.parametrize("addr", ["8.8.8.8", "2606:4700:4700::1111", "2002:808:808::1",
                                  "::ffff:8.8.8.8"])
def test_public_addresses(addr: str) -> None:
    assert not is_internal(ipaddress.ip_address(addr))


def test_the_ipv4_addresses_inside_ipv6_ones() -> None:
    v4 = ipaddress.IPv4Address
    assert embedded_ipv4(ipaddress.IPv6Address("2002:7f00:1::")) == [v4("127.0.0.1")]
    assert embedded_ipv4(ipaddress.IPv6Address("64:ff9b::a9fe:a9fe")) == [v4("169.254.169.254")]
    assert embedded_ipv4(ipaddress.IPv6Address("2001:0:808:808::80ff:fffe")) == [
        v4("8.8.8.8"), v4("127.0.0.1")]
    assert embedded_ipv4(ipaddress.IPv6Address("2606:4700:4700::1111")) == []


@pytest.mark.parametrize("host", ["::1", "::ffff:127.0.0.1", "::", *EMBEDDING_INTERNAL])
def test_ipv6_literals_are_refused_as_internal_with_or_without_brackets(host: str) -> None:
    for written in (host, f"[{host}]"):
        with pytest.raises(BlockedAddress, match="internal address"):
            UrlPolicy().resolve(written, 80)


def test_a_public_ipv6_literal_is_its_own_address() -> None:
    public = ipaddress.IPv6Address("2606:4700:4700::1111")
    assert UrlPolicy().resolve("[2606:4700:4700::1111]", 443) == public
    assert UrlPolicy().resolve("2606:4700:4700::1111", 443) == public


@pytest.mark.parametrize("url", ["http://127.0.0.1/", "http://10.0.0.1/x",
                                 "http://169.254.169.254/latest/meta-data/", "http://localhost/",
                                 "http://[::1]/", "http://2130706433/", "http://[::]/",
                                 "http://[::ffff:127.0.0.1]/", "http://[2002:a9fe:a9fe::]/",
                                 "http://[64:ff9b::a9fe:a9fe]/latest/meta-data/"])
def test_direct_internal_urls_are_refused(url: str) -> None:
    with pytest.raises(BlockedAddress, match="internal address"):
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


def test_ipv6_literal_urls_through_the_api(zhiku_home: Path) -> None:
    settings = api_settings(zhiku_home)
    with TestClient(create_app(settings, worker=False)) as client:  # nothing is fetched
        h = make_tenant(settings, "acme").headers
        client.post("/v1/kbs", headers=h, json={"name": "web"})
        for host in ["::1", "::ffff:127.0.0.1", "::", *EMBEDDING_INTERNAL]:
            r = client.post("/v1/kbs/web/documents/url", headers=h,
                            json={"url": f"http://[{host}]:8080/page"})
            assert r.status_code == 400, (host, r.text)
            assert r.json()["error"]["type"] == "blocked_url", (host, r.text)
            assert "internal address" in r.json()["error"]["message"], (host, r.text)
        r = client.post("/v1/kbs/web/documents/url", headers=h,
                        json={"url": "https://[2606:4700:4700::1111]/page"})
        assert r.status_code == 202, r.text
        assert r.json()["status"] == "queued"


def test_an_allow_listed_ipv6_literal_is_ingested(zhiku_home: Path) -> None:
    try:
        seen: list[str] = []
        server, port = _server({}, host="::1", seen=seen)
    except OSError:
        pytest.skip("no IPv6 loopback here")
    try:
        settings = api_settings(zhiku_home, api_url_allowlist=["::1/128"])
        with TestClient(create_app(settings)) as client:
            h = make_tenant(settings, "acme").headers
            client.post("/v1/kbs", headers=h, json={"name": "web"})
            r = client.post("/v1/kbs/web/documents/url", headers=h,
                            json={"url": f"http://[::1]:{port}/leave"})
            assert r.status_code == 202, r.text
            done = wait_job(client, h, r.json()["id"])
            assert done["status"] == "done", done
            doc = client.get("/v1/kbs/web/documents", headers=h).json()[0]
            assert doc["source"].startswith(f"http://[::1]:{port}/leave")
        assert seen == [f"[::1]:{port}"]  # the Host header keeps the brackets
    finally:
        server.shutdown()
        server.server_close()
