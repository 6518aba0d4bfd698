"""A real ``zhiku serve``: requests with a body are authenticated before the body is read (an
unauthenticated upload is answered 401 at once, without waiting for its bytes), and uploads
over the size limit are 413 also when their length is not declared (chunked)."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

import pgtest
from serving import admin_init, serve

pytestmark = pytest.mark.slow
LIMIT = 2_000_000
PART = b'--xyz\r\nContent-Disposition: form-data; name="files"; filename="a.txt"\r\n\r\n'


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    home = tmp_path_factory.mktemp("auth-first") / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZHIKU_")}
    env.update(ZHIKU_HOME=str(home), ZHIKU_EMBEDDER="hashing", ZHIKU_OCR="false",
               ZHIKU_API_MAX_UPLOAD_BYTES=str(LIMIT))
    url = pgtest.fresh_database() if pgtest.BACKEND == "postgres" else None
    if url:
        env["ZHIKU_DATABASE_URL"] = url
    try:
        key = admin_init(env, "owner@acme.example", "correct horse battery")
        with serve(env) as base:
            yield {"base": base, "key": key}
    finally:
        if url:
            pgtest.drop_database(url)


def _connect(base: str) -> socket.socket:
    parts = urlsplit(base)
    sock = socket.create_connection((parts.hostname or "", parts.port or 80), timeout=5)
    sock.settimeout(5)
    return sock


def _status(sock: socket.socket) -> tuple[int, bytes]:
    """Read the response (head, then as much body as it declares, which may arrive in later
    packets); raises ``TimeoutError`` when none comes within the timeout."""
    data = b""
    while b"\r\n\r\n" not in data:
        got = sock.recv(65536)
        if not got:
            break
        data += got
    head, _, body = data.partition(b"\r\n\r\n")
    length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    while length and len(body) < int(length[1]):
        got = sock.recv(65536)
        if not got:
            break
        body += got
    return int(data.split(b" ", 2)[1]), head + b"\r\n\r\n" + body


def _send(sock: socket.socket, data: bytes) -> None:
    # the server may have answered and closed already: its answer is read afterwards
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        sock.sendall(data)


def _upload_head(base: str, length: str, auth: str | None) -> bytes:
    lines = ["POST /v1/kbs/hr/documents HTTP/1.1", f"Host: {urlsplit(base).netloc}",
             "Content-Type: multipart/form-data; boundary=xyz", length]
    if auth:
        lines.append(f"Authorization: Bearer {auth}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@pytest.mark.parametrize("auth", [None, "zk_notakey_0000000000000000", "zks_expired"])
def test_unauthenticated_body_is_refused_before_it_is_read(
    server: dict[str, Any], auth: str | None
) -> None:
    with _connect(server["base"]) as sock:
        start = time.monotonic()
        _send(sock, _upload_head(server["base"], "Content-Length: 1900000", auth))
        _send(sock, PART + b"x" * 500_000)  # a quarter of the body declared
        status, head = _status(sock)
        elapsed = time.monotonic() - start
    assert status == 401, head
    assert b"connection: close" in head.lower()
    assert elapsed < 3, elapsed


def test_cookie_session_without_csrf_is_refused_before_the_body(server: dict[str, Any]) -> None:
    import httpx

    r = httpx.post(server["base"] + "/v1/auth/login", json={
        "email": "owner@acme.example", "password": "correct horse battery", "cookie": True})
    session = r.cookies["zhiku_session"]
    head = _upload_head(server["base"], "Content-Length: 1900000", None)
    head = head.replace(b"\r\n\r\n", f"\r\nCookie: zhiku_session={session}\r\n\r\n".encode())
    with _connect(server["base"]) as sock:
        start = time.monotonic()
        _send(sock, head + PART + b"x" * 500_000)
        status, answer = _status(sock)
        elapsed = time.monotonic() - start
    assert status == 403 and b"x-csrf-token" in answer, answer
    assert elapsed < 3, elapsed


def test_chunked_upload_over_the_limit_is_413(server: dict[str, Any]) -> None:
    import httpx

    with httpx.Client(base_url=server["base"]) as c:
        r = c.post("/v1/kbs", json={"name": "hr"},
                   headers={"Authorization": f"Bearer {server['key']}"})
        assert r.status_code in (201, 409)
    chunk = b"x" * 65536
    with _connect(server["base"]) as sock:
        _send(sock, _upload_head(server["base"], "Transfer-Encoding: chunked", server["key"]))
        _send(sock, b"%x\r\n%s\r\n" % (len(PART), PART))
        for _ in range(LIMIT // len(chunk) + 4):
            _send(sock, b"%x\r\n%s\r\n" % (len(chunk), chunk))
        _send(sock, b"0\r\n\r\n")
        status, head = _status(sock)
    assert status == 413, head


def test_authenticated_upload_still_works(server: dict[str, Any], tmp_path: Path) -> None:
    import httpx

    h = {"Authorization": f"Bearer {server['key']}"}
    with httpx.Client(base_url=server["base"], headers=h, timeout=30) as c:
        c.post("/v1/kbs", json={"name": "docs"})
        r = c.post("/v1/kbs/docs/documents",
                   files=[("files", ("a.md", b"# A\n\nSome text.\n", "text/markdown"))])
        assert r.status_code == 202, r.text
        assert c.post("/v1/auth/login", json={"email": "owner@acme.example",
                                              "password": "wrong"}).status_code == 401
