"""Web sources crawled for real from a threaded HTTP server on 127.0.0.1: sitemap and links,
robots.txt, canonical URLs, a link loop, a redirect loop, a 404, a redirect to the cloud
metadata address, changes and removals; the URL guard refuses the site unless allow-listed."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from connector_checks import zhiku

from zhiku.core.settings import Settings
from zhiku.service import Zhiku

NAV = "<nav><a href='/'>Home</a> <a href='/about'>About</a></nav>"


def page(title: str, body: str, links: list[str] = (), canonical: str = "") -> str:  # type: ignore[assignment]
    anchors = " ".join(f"<a href='{href}'>link</a>" for href in links)
    head = f"<link rel='canonical' href='{canonical}'>" if canonical else ""
    return (f"<html><head><title>{title}</title>{head}</head><body>{NAV}<article><h1>{title}"
            f"</h1><p>{body}</p><p>{anchors}</p></article></body></html>")


class Site:
    """The pages the server answers with, and every path it was asked for."""

    def __init__(self) -> None:
        self.pages: dict[str, tuple[int, dict[str, str], str]] = {}
        self.requested: list[str] = []
        self.times: list[float] = []
        self.version = 1

    def html(self, path: str, text: str) -> None:
        self.pages[path] = (200, {"Content-Type": "text/html; charset=utf-8",
                                  "ETag": f'"{abs(hash(text))}"'}, text)

    def redirect(self, path: str, to: str, status: int = 302) -> None:
        self.pages[path] = (status, {"Location": to}, "")


@pytest.fixture
def site() -> Iterator[tuple[Site, str]]:
    state = Site()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requested.append(self.path)
            state.times.append(time.monotonic())
            status, headers, body = state.pages.get(self.path, (404, {}, "not found"))
            data = body.encode()
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def build(site: Site, base: str) -> None:
    site.pages["/robots.txt"] = (200, {"Content-Type": "text/plain"},
                                 "User-agent: *\nDisallow: /private/\n")
    site.pages["/sitemap.xml"] = (200, {"Content-Type": "application/xml"}, (
        "<?xml version='1.0'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
        f"<url><loc>{base}/about</loc></url><url><loc>{base}/docs/a</loc></url></urlset>"))
    site.html("/", page("Welcome", "The travel policy lives on this intranet.", [
        "/about", "/about?ref=home", "/docs/a", "/private/secret", "/loop1", "/missing",
        "/meta", "/old#top", "http://example.com/elsewhere", "mailto:hr@example.com"]))
    site.html("/about", page("About us", "Zhiku Travel was founded in the year 1999 by "
                             "three librarians.", canonical="/about"))
    site.html("/about?ref=home", page("About us", "Zhiku Travel was founded in the year 1999 "
                                      "by three librarians (tracked).", canonical="/about"))
    site.html("/docs/a", page("Doc A", "Receipts are kept for seven years.", ["/docs/b"]))
    site.html("/docs/b", page("Doc B", "Trains are booked in second class.", ["/docs/a"]))
    site.html("/private/secret", page("Secret", "Never crawl this page."))
    site.redirect("/loop1", "/loop2")
    site.redirect("/loop2", "/loop1")
    site.redirect("/meta", "http://169.254.169.254/latest/meta-data/")
    site.redirect("/old", "/about", 301)


@pytest.fixture
def zk(zhiku_home: Path) -> Iterator[Zhiku]:
    with zhiku(zhiku_home) as service:
        yield service


def test_a_site_is_crawled_and_kept_current(zk: Zhiku, site: tuple[Site, str]) -> None:
    state, base = site
    build(state, base)
    zk.sources.add("kb", "intranet", "web", {"start_urls": [f"{base}/"],
                                             "sitemaps": [f"{base}/sitemap.xml"],
                                             "delay_s": 0})
    run = zk.sources.sync("intranet", wait=True)
    assert run.status == "done", run
    docs = {d.source: d for d in zk.documents("kb")}
    pages = {f"{base}/", f"{base}/about", f"{base}/docs/a", f"{base}/docs/b"}
    assert {s for s, d in docs.items() if d.status == "ready"} == pages
    assert run.added == 4 and run.failed == 2
    errors = {e["item"]: e["error"] for e in run.errors}
    assert "redirects" in errors[f"{base}/loop1"]
    assert "internal address" in errors[f"{base}/meta"]
    assert "/private/secret" not in state.requested  # robots.txt said no
    assert docs[f"{base}/about"].metadata["url"] == f"{base}/about"

    answer = zk.ask("kb", "When was Zhiku Travel founded?")
    assert answer.citations and answer.citations[0].url == f"{base}/about"

    state.html("/docs/a", page("Doc A", "Receipts are now kept for ten years.", []))
    again = zk.sources.sync("intranet", wait=True)
    assert (again.status, again.updated, again.removed, again.unchanged) == (
        "done", 1, 1, 2), again
    assert f"{base}/docs/b" not in {d.source for d in zk.documents("kb")}
    hits = zk.search("kb", "ten years", mode="keyword")
    assert hits and hits[0].source == f"{base}/docs/a"


def test_depth_and_page_limits(zk: Zhiku, site: tuple[Site, str]) -> None:
    state, base = site
    build(state, base)
    zk.sources.add("kb", "shallow", "web", {"start_urls": [f"{base}/docs/a"], "max_depth": 0,
                                            "delay_s": 0})
    assert zk.sources.sync("shallow", wait=True).added == 1
    zk.create_kb("kb2")
    zk.sources.add("kb2", "two", "web", {"start_urls": [f"{base}/"], "max_pages": 2,
                                         "delay_s": 0})
    assert len(zk.documents("kb2")) == 0
    run = zk.sources.sync("two", "kb2", wait=True)
    assert run.added + run.failed <= 2 and len(zk.documents("kb2")) == 2


def test_internal_sites_are_refused_by_default(zhiku_home: Path,
                                               site: tuple[Site, str]) -> None:
    state, base = site
    build(state, base)
    with Zhiku(Settings(home=zhiku_home, embedder="hashing", parse_workers=0)) as zk:
        zk.create_kb("kb")
        zk.sources.add("kb", "intranet", "web", {"start_urls": [f"{base}/"], "delay_s": 0})
        run = zk.sources.sync("intranet", wait=True)
    assert run.status == "failed" and "internal address" in (run.error or "")
    assert state.requested == []


def test_without_main_content_extraction_the_html_parser_reads_pages(
        zk: Zhiku, site: tuple[Site, str]) -> None:
    state, base = site
    build(state, base)
    zk.sources.add("kb", "raw", "web", {"start_urls": [f"{base}/docs/a"], "max_depth": 0,
                                        "main_content": False, "delay_s": 0})
    assert zk.sources.sync("raw", wait=True).added == 1
    (doc,) = zk.documents("kb")
    assert (doc.source, doc.format, doc.title) == (f"{base}/docs/a", "html", "Doc A")
    assert zk.search("kb", "seven years", mode="keyword")


def test_robots_crawl_delay_spaces_the_requests(zk: Zhiku, site: tuple[Site, str]) -> None:
    state, base = site
    build(state, base)
    state.pages["/robots.txt"] = (200, {"Content-Type": "text/plain"},
                                  "User-agent: *\nCrawl-delay: 1\n")
    zk.sources.add("kb", "slow", "web", {"start_urls": [f"{base}/docs/a", f"{base}/docs/b"],
                                         "max_depth": 0, "delay_s": 0})
    assert zk.sources.sync("slow", wait=True).added == 2
    assert state.requested == ["/robots.txt", "/docs/a", "/docs/b"]
    gaps = [b - a for a, b in zip(state.times, state.times[1:], strict=False)]
    assert min(gaps) >= 0.99


@pytest.fixture
def slow_site() -> Iterator[tuple[dict[str, object], str]]:
    """An HTTP/1.1 site of 12 linked pages, each answered after 0.2 s; it notes the most
    requests it served at once and the client ports it was asked from."""
    seen: dict[str, object] = {"busy": 0, "most": 0, "ports": set()}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            with lock:
                seen["busy"] = busy = int(seen["busy"]) + 1  # type: ignore[call-overload]
                seen["most"] = max(int(seen["most"]), busy)  # type: ignore[call-overload]
                seen["ports"].add(self.client_address[1])  # type: ignore[attr-defined]
            name = self.path.strip("/") or "0"
            if not name.isdigit():
                status, body = 404, "none"
            else:
                time.sleep(0.2)
                n = int(name)
                status, body = 200, page(f"Page {n}", f"Page number {n} of the slow site.",
                                         [f"/{k}" for k in range(12)])
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            with lock:
                seen["busy"] = int(seen["busy"]) - 1  # type: ignore[call-overload]

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield seen, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_pages_are_fetched_concurrently_over_kept_connections(
        zk: Zhiku, slow_site: tuple[dict[str, object], str]) -> None:
    seen, base = slow_site
    zk.sources.add("kb", "slow", "web", {"start_urls": [f"{base}/"], "delay_s": 0,
                                         "concurrency": 4, "main_content": False})
    run = zk.sources.sync("slow", wait=True)
    assert (run.status, run.added, run.failed) == ("done", 12, 0), run.error
    assert seen["most"] == 4  # four at once, never more
    assert len(seen["ports"]) <= 5  # type: ignore[arg-type]  # kept: not one per page


def test_a_delay_makes_requests_to_a_host_go_one_at_a_time(zk: Zhiku,
                                                           site: tuple[Site, str]) -> None:
    state, base = site
    build(state, base)
    zk.sources.add("kb", "paced", "web", {"start_urls": [f"{base}/"], "delay_s": 0.3,
                                          "concurrency": 8, "robots": False})
    assert zk.sources.sync("paced", wait=True).status == "done"
    # A redirect's next hop belongs to the same fetch and follows at once.
    hops = {p for p, (status, _, _) in state.pages.items() if 300 <= status < 400}
    fetches = [t for i, t in enumerate(state.times)
               if i == 0 or state.requested[i - 1] not in hops]
    gaps = [b - a for a, b in itertools.pairwise(fetches)]
    assert len(gaps) >= 6 and min(gaps) >= 0.29
