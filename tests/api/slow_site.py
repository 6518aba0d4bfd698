"""A slow web site on 127.0.0.1 for the URL-fetch time limits: it drips its answer a byte at a
time, or says nothing at all, until the test releases it (or ``limit`` seconds pass)."""

from __future__ import annotations

import threading
import time
from contextlib import suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PAGE = b"<html><head><title>Slow</title></head><body><p>Sloths sleep fifteen hours a day.</p>"


class SlowSite:
    """Paths: ``/drip`` (headers at once, then the body a byte every ``interval`` seconds),
    ``/drip-headers`` (the headers themselves a byte at a time), ``/silent`` (nothing) and
    ``/fast`` (the whole page at once). Once released, every answer completes at once."""

    def __init__(self, interval: float = 0.1, limit: float = 60.0) -> None:
        self.interval = interval
        self.limit = limit
        self.released = threading.Event()
        self.requested = threading.Event()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.requested.set()
                with suppress(OSError):  # the client hung up (its deadline passed)
                    self.answer()

            def answer(self) -> None:
                head = (b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n"
                        b"Content-Length: %d\r\n\r\n" % len(PAGE))
                if self.path == "/fast":
                    self.wfile.write(head + PAGE)
                elif self.path == "/silent":
                    site.wait(site.limit)
                    self.wfile.write(head + PAGE)
                elif self.path == "/drip-headers":
                    self.drip(head)
                    self.wfile.write(PAGE)
                else:
                    self.wfile.write(head)
                    self.drip(PAGE)

            def drip(self, data: bytes) -> None:
                end = time.monotonic() + site.limit
                for n in range(len(data)):
                    if site.released.is_set() or time.monotonic() > end:
                        self.wfile.write(data[n:])
                        return
                    self.wfile.write(data[n:n + 1])
                    self.wfile.flush()
                    site.wait(site.interval)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        """The URL of ``path`` on this site."""
        return f"http://127.0.0.1:{self.port}{path}"

    def wait(self, seconds: float) -> None:
        """Sleep ``seconds``, or less once released."""
        self.released.wait(seconds)

    def close(self) -> None:
        """Release every answer and stop the server."""
        self.released.set()
        self.server.shutdown()
        self.server.server_close()
