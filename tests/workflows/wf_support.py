"""Shared by the workflow tests (a module of its own, imported by a unique name): building
definitions, and a small HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from zhiku.workflows.schema import Workflow, load
from zhiku.workflows.validate import validate


def flow(nodes: list[dict[str, Any]], edges: list[tuple[str, ...]],
         inputs: list[dict[str, Any]] | None = None, **extra: Any) -> Workflow:
    """A validated workflow: a start node with ``inputs`` (default: one string ``q``), then
    ``nodes``; edges as (source, target[, handle])."""
    start = {"id": "start", "type": "start", "inputs": inputs or [{"name": "q"}]}
    data = {"nodes": [start, *nodes],
            "edges": [dict(zip(("source", "target", "handle"), e, strict=False)) for e in edges],
            **extra}
    return validate(load(data))


class Site:
    """A 127.0.0.1 server: ``/slow?s=N`` sleeps, ``/flaky`` fails ``fail_first`` times,
    ``/json`` answers JSON, ``/big`` answers 100 kB, POST echoes the body as JSON."""

    def __init__(self) -> None:
        self.fail_first = 2
        self.hits: dict[str, int] = {}
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("content-type", ctype)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                site.hits[path] = site.hits.get(path, 0) + 1
                if path == "/slow":
                    time.sleep(float(self.path.split("s=")[1]))
                    self._send(200, b'{"slow": true}')
                elif path == "/flaky":
                    if site.hits[path] <= site.fail_first:
                        self._send(503, b"busy")
                    else:
                        self._send(200, b'{"ok": true}')
                elif path == "/big":
                    self._send(200, b"x" * 100_000, "text/plain")
                else:
                    self._send(200, json.dumps({"path": self.path}).encode())

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                echo = {"body": body.decode(), "auth": self.headers.get("x-token")}
                self._send(200, json.dumps(echo).encode())

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
