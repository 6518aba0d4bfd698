"""A fast stub of an OpenAI-compatible ``/v1/embeddings`` server for benchmarks: deterministic
256-d vectors (seeded by each text's crc32), so that embedding is never the bottleneck.

    python bench/_stub_embeddings.py            # prints "port N" once it listens on 127.0.0.1
"""

from __future__ import annotations

import json
import sys
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np

DIM = 256


def vector(text: str) -> list[float]:
    """A unit vector that depends only on ``text``."""
    rng = np.random.default_rng(zlib.crc32(text.encode()))
    vec = rng.standard_normal(DIM).astype(np.float32)
    return (vec / np.linalg.norm(vec)).round(6).tolist()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else each reply waits ~40 ms for a delayed ACK

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        reply = json.dumps({
            "object": "list",
            "model": body.get("model", "stub"),
            "data": [{"object": "embedding", "index": i, "embedding": vector(t)}
                     for i, t in enumerate(texts)],
            "usage": {"prompt_tokens": 0, "total_tokens": 0},
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, format: str, *args: object) -> None:
        pass


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"port {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
