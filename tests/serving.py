"""Running the real ``zhiku`` command in tests: a free port, ``zhiku admin init``, and
``zhiku serve`` until its ``/readyz`` answers (the API, console and multi-process tests)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from waiting import wait_until

ZHIKU = str(Path(sys.executable).parent / "zhiku")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def admin_init(env: dict[str, str], email: str, password: str, workspace: str = "acme") -> str:
    """``zhiku admin init``: the owner and workspace; returns the owner's API key."""
    init = subprocess.run(
        [ZHIKU, "admin", "init", "--email", email, "--workspace", workspace,
         "--password-stdin", "--json"],
        input=password + "\n", capture_output=True, text=True, env=env, check=True,
    )
    return str(json.loads(init.stdout)["key"])


def wait_ready(base: str, *, timeout: float = 60.0,
               why: Callable[[], str] = lambda: "") -> None:
    """Wait until ``{base}/readyz`` answers 200 (``why``: what to show if it never does)."""

    def ready() -> bool:
        try:
            return httpx.get(f"{base}/readyz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    wait_until(ready, timeout, lambda: f"{base} to start\n{why()}", interval=0.1)


@contextmanager
def serve_process(env: dict[str, str], *args: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``zhiku serve`` on a free port (extra ``args`` appended); yields its base URL and its
    process, and stops it afterwards."""
    port = free_port()
    proc = subprocess.Popen([ZHIKU, "serve", "--host", "127.0.0.1", "--port", str(port),
                             "--log-level", "warning", *args], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base)
        yield base, proc
    finally:
        proc.terminate()
        proc.wait(30)


@contextmanager
def serve(env: dict[str, str], *args: str) -> Iterator[str]:
    """``zhiku serve`` on a free port (extra ``args`` appended); yields its base URL and
    stops it afterwards."""
    with serve_process(env, *args) as (base, _):
        yield base
