"""A scripted reranker on 127.0.0.1 speaking both ``/rerank`` protocols (TEI ``texts`` and the
``documents`` style), for the reranker tests of the core and of the HTTP API."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class RerankServer:
    """Scores a text 1.0 when it holds ``favourite``, else 0.1; or fails / stalls on demand."""

    def __init__(self) -> None:
        self.favourite = "wifi"
        self.status = 200
        self.delay = 0.0
        self.requests: list[tuple[str, dict[str, str], dict[str, Any]]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                headers = {k.lower(): v for k, v in self.headers.items()}
                server.requests.append((self.path, headers, body))
                if server.delay:
                    time.sleep(server.delay)
                texts = body.get("texts", body.get("documents", []))
                scores = [1.0 if server.favourite in t else 0.1 for t in texts]
                if "texts" in body:  # TEI
                    out: Any = [{"index": i, "score": s} for i, s in enumerate(scores)]
                else:
                    ranked = sorted(enumerate(scores), key=lambda p: -p[1])
                    out = {"results": [{"index": i, "relevance_score": s} for i, s in ranked]}
                data = json.dumps(out if server.status == 200 else {"error": "boom"}).encode()
                try:
                    self.send_response(server.status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (the time-out test)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
