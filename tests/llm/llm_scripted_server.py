"""A scripted OpenAI-compatible server on 127.0.0.1 for fault injection and prompt inspection.

Each request takes the next queued ``Script`` (or the default responder's) and is recorded.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Script:
    """What to answer to one request."""

    text: str = "OK [1]"
    reasoning: str = ""
    status: int = 200
    body: str | None = None  # raw body for error statuses or invalid JSON
    delay: float = 0.0  # before the headers (a time-out)
    chunk_delay: float = 0.0
    truncate_after: int | None = None  # stream: close after this many deltas, no [DONE]
    invalid_event: bool = False  # stream: send a non-JSON data line
    usage: tuple[int, int] | None = (50, 7)
    headers: dict[str, str] = field(default_factory=dict)
    # (name, raw arguments text) per call; the reply then ends with finish_reason "tool_calls"
    tool_calls: list[tuple[str, str]] = field(default_factory=list)


class ScriptedServer:
    """Start with ``start()``; queue scripts with ``push()``; read ``requests``."""

    def __init__(self) -> None:  # noqa: C901 - the handler class is defined inline
        self.queue: deque[Script] = deque()
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.default: Callable[[dict[str, Any]], Script] = lambda req: Script()
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self._json(200, {"data": [{"id": "scripted-model"}]})

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                payload = json.loads(self.rfile.read(length) or b"{}")
                with server._lock:
                    server.requests.append(payload)
                    server.headers.append(dict(self.headers))
                    script = server.queue.popleft() if server.queue else server.default(payload)
                if script.delay:
                    time.sleep(script.delay)
                if script.status != 200:
                    self._raw(script.status, script.body or '{"error": {"message": "scripted"}}',
                              script.headers)
                elif script.body is not None:
                    self._raw(200, script.body, script.headers)
                elif payload.get("stream"):
                    self._stream(script)
                else:
                    self._json(200, _completion(script))

            def _raw(self, status: int, body: str, headers: dict[str, str] | None = None) -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def _json(self, status: int, body: dict[str, Any]) -> None:
                self._raw(status, json.dumps(body))

            def _stream(self, script: Script) -> None:
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("connection", "close")
                self.end_headers()
                pieces = [("reasoning", p) for p in _pieces(script.reasoning)]
                pieces += [("text", p) for p in _pieces(script.text)]
                for i, (kind, piece) in enumerate(pieces):
                    if script.truncate_after is not None and i >= script.truncate_after:
                        self.wfile.flush()
                        self.close_connection = True
                        return
                    if script.invalid_event and i == 1:
                        self.wfile.write(b"data: {not json\n\n")
                        continue
                    key = "reasoning_content" if kind == "reasoning" else "content"
                    self._event({"choices": [{"index": 0, "delta": {key: piece},
                                              "finish_reason": None}]})
                    if script.chunk_delay:
                        time.sleep(script.chunk_delay)
                for i, (name, args) in enumerate(script.tool_calls):
                    self._event({"choices": [{"index": 0, "delta": {"tool_calls": [
                        {"index": i, "id": f"call_{i}", "type": "function",
                         "function": {"name": name, "arguments": ""}}]}, "finish_reason": None}]})
                    for piece in _pieces(args, 7):
                        self._event({"choices": [{"index": 0, "delta": {"tool_calls": [
                            {"index": i, "function": {"arguments": piece}}]},
                            "finish_reason": None}]})
                finish = "tool_calls" if script.tool_calls else "stop"
                self._event({"choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
                if script.usage:
                    self._event({"choices": [], "usage": {"prompt_tokens": script.usage[0],
                                                          "completion_tokens": script.usage[1]}})
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True

            def _event(self, data: dict[str, Any]) -> None:
                self.wfile.write(b"data: " + json.dumps(data).encode() + b"\n\n")
                self.wfile.flush()

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def start(self) -> ScriptedServer:
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def push(self, *scripts: Script) -> None:
        self.queue.extend(scripts)

    @property
    def chat_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if "messages" in r]


def _pieces(text: str, size: int = 4) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def _completion(script: Script) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": script.text}
    if script.reasoning:
        message["reasoning_content"] = script.reasoning
    if script.tool_calls:
        message["tool_calls"] = [
            {"id": f"call_{i}", "type": "function", "function": {"name": n, "arguments": a}}
            for i, (n, a) in enumerate(script.tool_calls)
        ]
    finish = "tool_calls" if script.tool_calls else "stop"
    body: dict[str, Any] = {
        "id": "cmpl-1", "object": "chat.completion", "model": "scripted-model",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
    }
    if script.usage:
        body["usage"] = {"prompt_tokens": script.usage[0], "completion_tokens": script.usage[1]}
    return body
