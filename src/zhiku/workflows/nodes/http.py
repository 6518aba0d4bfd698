"""HTTP requests through the SSRF guard: every address is checked before connecting.

GET goes through the guarded fetch of URL ingestion (each redirect hop checked). Other methods
send one request, pinned to the checked address, and follow no redirect. Bodies are capped at
``max_bytes``; ``request_timeout_s`` bounds connecting, each read, and the whole request.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from zhiku.core.errors import InvalidInput, PayloadTooLarge
from zhiku.ingest.fetch import FetchTimeout, UrlPolicy, fetch
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
        status, data, ctype, out_headers = _send(node, url, headers, body, policy)
    text = data.decode("utf-8", errors="replace")
    parsed: Any = None
    if ctype.endswith("json"):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
    return NodeResult({"status": status, "body": text, "json": parsed, "headers": out_headers})


def _send(node: HttpNode, url: str, headers: dict[str, str], body: str | None,
          policy: UrlPolicy) -> tuple[int, bytes, str, dict[str, str]]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput("only http and https URLs can be requested")
    if parts.username or parts.password:
        raise InvalidInput("URLs with credentials are not accepted")
    host = parts.hostname
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addr = policy.resolve(host, port)
    netloc = f"[{addr}]:{port}" if addr.version == 6 else f"{addr}:{port}"
    pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    name = f"[{host}]" if ":" in host else host
    sent = {**headers, "Host": name if parts.port is None else f"{name}:{parts.port}"}
    sent.setdefault("User-Agent", "zhiku-workflow/1")
    try:
        with httpx.Client(timeout=node.request_timeout_s, follow_redirects=False,
                          trust_env=False) as client:
            request = client.build_request(node.method, pinned, headers=sent,
                                           content=body.encode() if body is not None else None,
                                           extensions={"sni_hostname": host})
            response = client.send(request, stream=True)
            try:
                data = bytearray()
                for piece in response.iter_bytes():
                    data += piece
                    if len(data) > node.max_bytes:
                        raise PayloadTooLarge(f"the response is over {node.max_bytes:,} bytes")
                if response.status_code >= 400:
                    raise InvalidInput(f"the URL answered HTTP {response.status_code}")
                ctype = response.headers.get("content-type", "application/octet-stream")
                return (response.status_code, bytes(data), ctype.split(";")[0].strip().lower(),
                        dict(response.headers))
            finally:
                response.close()
    except httpx.TimeoutException:
        raise FetchTimeout(f"the URL did not answer within {node.request_timeout_s} s") from None
    except httpx.HTTPError as exc:
        raise InvalidInput(f"the request failed: {type(exc).__name__}: {exc}") from None
