"""A real OpenID Connect provider for the tests: the certified ``oidc-provider`` package run by
Node.js on 127.0.0.1. Its npm packages are installed once (``npm ci``, from the pinned
package-lock.json) into a cache folder keyed by the lock file, so a clean clone installs them
itself."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).parent
NODE = shutil.which("node")
NPM = shutil.which("npm")
FILES = ("package.json", "package-lock.json", "oidc_server.mjs")
CALLBACK = "http://testserver/v1/auth/oidc/callback"
CLIENTS = [
    {"client_id": "zhiku", "client_secret": "zhiku-client-secret"},
    {"client_id": "other-app", "client_secret": "other-client-secret"},
]
ACCOUNTS: dict[str, dict[str, Any]] = {
    "lihua": {"email": "lihua@acme.example", "email_verified": True, "name": "Li Hua",
              "groups": ["zhiku-admins", "staff"]},
    "wangfang": {"email": "wangfang@acme.example", "email_verified": True, "name": "Wang Fang",
                 "groups": ["staff"]},
    "nobody": {"email": "nobody@acme.example", "email_verified": True, "name": "No Body",
               "groups": ["contractors"]},
}


@dataclass(frozen=True)
class Provider:
    """A running provider: its issuer URL."""

    issuer: str


def install_folder() -> Path:
    """The provider's files with its node_modules, installed when missing."""
    lock = (HERE / "package-lock.json").read_bytes()
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    folder = cache / "zhiku-tests" / f"oidc-provider-{hashlib.sha256(lock).hexdigest()[:16]}"
    folder.mkdir(parents=True, exist_ok=True)
    # The SQLite and PostgreSQL passes run side by side: one installs, the other waits.
    with (folder.parent / f"{folder.name}.lock").open("w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        for name in FILES:
            if not (folder / name).exists() or (folder / name).read_bytes() != (
                    HERE / name).read_bytes():
                shutil.copyfile(HERE / name, folder / name)
        if not (folder / "node_modules" / "oidc-provider" / "package.json").exists():
            assert NPM is not None, "npm is needed to install oidc-provider (it comes with node)"
            subprocess.run([NPM, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                           cwd=folder, check=True, timeout=600)
    return folder


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_provider(tmp: Path, *, port: int | None = None,
                     callback: str = CALLBACK) -> Iterator[Provider]:
    """Start the provider on ``port`` (a free one by default) with the test clients
    (redirecting to Zhiku's ``callback``: the test client's host by default) and accounts;
    stop it afterwards."""
    assert NODE is not None
    folder = install_folder()
    port = port or free_port()
    clients = [{**c, "redirect_uris": [callback], "grant_types": ["authorization_code"],
                "response_types": ["code"]} for c in CLIENTS]
    config = tmp / "oidc.json"
    config.write_text(json.dumps({"port": port, "clients": clients, "accounts": ACCOUNTS}))
    log = (tmp / "oidc.log").open("w")
    proc = subprocess.Popen([NODE, str(folder / "oidc_server.mjs"), str(config)], cwd=folder,
                            stdout=log, stderr=subprocess.STDOUT)
    issuer = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(issuer + "/.well-known/openid-configuration").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("oidc-provider did not start:\n" + (tmp / "oidc.log")
                                   .read_text()[-3000:])
            time.sleep(0.2)
        yield Provider(issuer)
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


def sign_in_at_provider(authorize_url: str, login: str, stop_at: str = "http://testserver/"
                        ) -> str:
    """Go through the provider's login and consent pages as ``login`` (its development
    interactions accept any password) with a real HTTP client; the URL it finally redirects
    to at ``stop_at`` (Zhiku's callback with code and state)."""
    with httpx.Client(timeout=10) as browser:
        url = authorize_url
        for _ in range(20):
            if url.startswith(stop_at):
                return url
            answer = browser.get(url)
            if answer.is_redirect:
                url = str(answer.url.join(answer.headers["location"]))
                continue
            assert answer.status_code == 200, answer.text[:500]
            page = answer.text
            if 'name="prompt" value="login"' in page:
                form = {"prompt": "login", "login": login, "password": "any"}
            elif 'name="prompt" value="consent"' in page:
                form = {"prompt": "consent"}
            else:
                raise AssertionError(f"unexpected provider page: {page[:500]}")
            posted = browser.post(answer.url, data=form)
            assert posted.is_redirect, posted.text[:500]
            url = str(posted.url.join(posted.headers["location"]))
    raise AssertionError("the provider never redirected back")
