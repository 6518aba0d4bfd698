"""One HTTP request through the SSRF guard: the host's addresses are checked, the request is
pinned to the checked address, no redirect is followed, the body is capped, and a time-out
bounds connecting, each read and the whole request.

Header values (which may hold credentials) never appear in errors.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import httpx

from zhiku.core.errors import InvalidInput, PayloadTooLarge
from zhiku.ingest.fetch import FetchTimeout, UrlPolicy


@dataclass(slots=True)
class Response:
    """Status, body, content type and headers of an answered request."""

    status: int
    data: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)


def request(method: str, url: str, policy: UrlPolicy, *, headers: dict[str, str] | None = None,
            body: bytes | None = None, timeout: float = 30.0,
            max_bytes: int = 1_000_000, user_agent: str = "zhiku-tools/1") -> Response:
    """Send the request; any status is returned (the caller decides what an error is)."""
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
    sent = {**(headers or {}), "Host": name if parts.port is None else f"{name}:{parts.port}"}
    sent.setdefault("User-Agent", user_agent)
    deadline = time.monotonic() + timeout
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
            req = client.build_request(method, pinned, headers=sent, content=body,
                                       extensions={"sni_hostname": host})
            response = client.send(req, stream=True)
            try:
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > max_bytes:
                    raise PayloadTooLarge(f"the response is over {max_bytes:,} bytes")
                data = bytearray()
                for piece in response.iter_bytes():
                    data += piece
                    if len(data) > max_bytes:
                        raise PayloadTooLarge(f"the response is over {max_bytes:,} bytes")
                    if time.monotonic() > deadline:
                        raise FetchTimeout(f"{host} did not answer within {timeout:g} s")
                ctype = response.headers.get("content-type", "application/octet-stream")
                return Response(response.status_code, bytes(data),
                                ctype.split(";")[0].strip().lower(), dict(response.headers))
            finally:
                response.close()
    except httpx.TimeoutException:
        raise FetchTimeout(f"{host} did not answer within {timeout:g} s") from None
    except httpx.HTTPError as exc:
        raise InvalidInput(f"the request to {host} failed: {type(exc).__name__}") from None
