"""HTTP requests through the SSRF guard: every address is checked before connecting.

GET goes through the guarded fetch of URL ingestion (each redirect hop checked). Other methods
send one request through the tools' guarded request (pinned to the checked address, no
redirect followed). Bodies are capped at
``max_bytes``; ``request_timeout_s`` bounds connecting, each read, and the whole request.
"""

from __future__ import annotations

import json
from typing import Any

from zhiku.core.errors import InvalidInput
from zhiku.ingest.fetch import fetch
from zhiku.tools.http import request
from zhiku.workflows.nodes.base import NodeContext, NodeResult
from zhiku.workflows.schema import HttpNode


def run_http(node: HttpNode, ctx: NodeContext) -> NodeResult:
    """Status, body text, parsed JSON (when the body is JSON) and response headers."""
    url = ctx.render(node.url).strip()
    headers = {k: ctx.render(v) for k, v in node.headers.items()}
    policy = ctx.services.url_policy()
    if node.method == "GET" and not headers:
        got = fetch(url, policy, max_bytes=node.max_bytes, timeout=node.request_timeout_s,
                    deadline=node.request_timeout_s)
        status, data, ctype = 200, got.data, got.content_type
        out_headers = {"content-type": got.content_type}
    else:
        body = ctx.render(node.body) if node.body is not None else None
        reply = request(node.method, url, policy, headers=headers,
                            body=body.encode() if body is not None else None,
                            timeout=node.request_timeout_s, max_bytes=node.max_bytes,
                            user_agent="zhiku-workflow/1")
        if reply.status >= 400:
            raise InvalidInput(f"the URL answered HTTP {reply.status}")
        status, data, ctype = reply.status, reply.data, reply.content_type
        out_headers = reply.headers
    text = data.decode("utf-8", errors="replace")
    parsed: Any = None
    if ctype.endswith("json"):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
    return NodeResult({"status": status, "body": text, "json": parsed, "headers": out_headers})
