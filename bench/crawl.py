"""Crawling a local site with the web connector, beside plain httpx fetching the same pages at
the same concurrency, in the same run.

A threaded HTTP/1.1 server on 127.0.0.1 serves ``--pages`` HTML pages (each linking to a few
others and to the home page) and a sitemap of them all. The web connector (``delay_s`` 0, so
its host has no wait; ``concurrency`` as given; main-content extraction off, since that is
parsing, not crawling) lists the site from its home page and sitemap and then fetches every
listed item, as a sync run does: every request goes through the SSRF guard (the allow-list
names 127.0.0.1), links are parsed and followed, bodies are kept in a temporary folder. The
baseline fetches the URLs the crawl listed with one ``httpx.Client`` from a thread pool of the
same size. Reported: pages/s of both and the ratio (target ≥ 0.8).

    .venv/bin/python bench/crawl.py --pages 2000 --concurrency 8
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from _common import write_result
from zhiku.connectors.base import ConnectorContext
from zhiku.connectors.web import SPEC

FILLER = ("Travel is booked through the portal. Receipts are kept for seven years. Leave is "
          "requested a month ahead. ") * 8


def page(n: int, total: int) -> bytes:
    links = sorted({(n + 1) % total, (n + 7) % total, (n * 3 + 1) % total, (n * 13) % total})
    anchors = " ".join(f"<a href='/p/{k}'>page {k}</a>" for k in links)
    return (f"<html><head><title>Page {n}</title></head><body><nav><a href='/'>Home</a></nav>"
            f"<article><h1>Page {n}</h1><p>Page number {n}. {FILLER}</p><p>{anchors}</p>"
            "</article></body></html>").encode()


@contextmanager
def site(total: int) -> Iterator[str]:
    """The base URL of a site of ``total`` pages (the home page is page 0)."""
    sitemap = ("<?xml version='1.0'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
               + "".join(f"<url><loc>{{base}}/p/{n}</loc></url>" for n in range(total))
               + "</urlset>")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            status, ctype, body = 404, "text/plain", b"not found"
            if self.path in ("/", "/p/0"):
                status, ctype, body = 200, "text/html; charset=utf-8", page(0, total)
            elif self.path.startswith("/p/") and self.path[3:].isdigit() \
                    and int(self.path[3:]) < total:
                status, ctype = 200, "text/html; charset=utf-8"
                body = page(int(self.path[3:]), total)
            elif self.path == "/sitemap.xml":
                status, ctype = 200, "application/xml"
                body = sitemap.replace("{base}", base).encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        server.server_close()


def crawl(base: str, total: int, concurrency: int) -> tuple[float, list[str], int]:
    """Seconds to list and fetch the site with the web connector, the listed URLs, bytes."""
    config = SPEC.config_model.model_validate({
        "start_urls": [f"{base}/"], "sitemaps": [f"{base}/sitemap.xml"], "delay_s": 0,
        "concurrency": concurrency, "max_pages": total + 10, "max_depth": 50,
        "main_content": False})
    ctx = ConnectorContext(max_item_bytes=10_000_000, allowed_hosts=("127.0.0.1",),
                           timeout_s=30.0)
    started = time.perf_counter()
    conn = SPEC.open(config, {}, ctx)
    try:
        items = list(conn.items())
        size = sum(len(conn.fetch(item)) for item in items)
    finally:
        conn.close()
    return time.perf_counter() - started, [item.id for item in items], size


def plain(urls: list[str], concurrency: int) -> tuple[float, int]:
    """Seconds to fetch ``urls`` with one httpx client from ``concurrency`` threads, bytes."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    started = time.perf_counter()
    with httpx.Client(limits=limits, trust_env=False) as client, \
            ThreadPoolExecutor(concurrency) as pool:
        def get(url: str) -> int:
            response = client.get(url)
            response.raise_for_status()
            return len(response.content)

        size = sum(pool.map(get, urls))
    return time.perf_counter() - started, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2, help="each side, alternating")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    crawled: list[float] = []
    fetched: list[float] = []
    with site(args.pages) as base:
        for _ in range(args.rounds):
            seconds, urls, size = crawl(base, args.pages, args.concurrency)
            assert len(urls) == args.pages, f"the crawl listed {len(urls)} pages"
            crawled.append(seconds)
            seconds, plain_size = plain(urls, args.concurrency)
            assert plain_size == size
            fetched.append(seconds)
    crawl_rate = args.pages / min(crawled)
    plain_rate = args.pages / min(fetched)
    result = {
        "pages": args.pages, "concurrency": args.concurrency, "rounds": args.rounds,
        "connector_s": [round(s, 3) for s in crawled],
        "httpx_s": [round(s, 3) for s in fetched],
        "connector_pages_per_s": round(crawl_rate, 1),
        "httpx_pages_per_s": round(plain_rate, 1),
        "ratio": round(crawl_rate / plain_rate, 3),
        "load_avg_1m_before": round(load_before, 2),
        "load_avg_1m_after": round(os.getloadavg()[0], 2),
    }
    for key, value in result.items():
        print(f"{key}: {value}")
    write_result("crawl", result)


if __name__ == "__main__":
    main()
