"""Sign-in hardening: a throttle per account and per address, bounded password hashing, one
verify for known and unknown e-mails, a password policy, and /metrics behind authentication."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from api_helpers import Tenant, api_settings, invite, make_tenant
from fastapi.testclient import TestClient

from hashing import CHEAP
from serving import ZHIKU
from zhiku.accounts import secrets as sec
from zhiku.accounts.passwords import check_password
from zhiku.accounts.store import AccountStore
from zhiku.api.app import create_app
from zhiku.core.errors import InvalidInput
from zhiku.store.db import open_database


@contextmanager
def _app(home: Path, **extra: Any) -> Iterator[tuple[TestClient, Tenant]]:
    settings = api_settings(home, **extra)
    with TestClient(create_app(settings)) as client:
        yield client, make_tenant(settings, "acme")


def _login(client: TestClient, email: str, password: str) -> Any:
    return client.post("/v1/auth/login", json={"email": email, "password": password})


def test_account_lock_answers_429_until_the_window_passes(zhiku_home: Path) -> None:
    window = 4.0  # long enough for three slow hashes on a busy machine, short to wait out
    with _app(zhiku_home, api_login_max_failures=3, api_login_window_seconds=window) as (
            client, t):
        assert [_login(client, t.email, f"wrong-{i}").status_code for i in range(3)] == [401] * 3
        locked_at = time.monotonic()
        r = _login(client, t.email, t.password)  # the right password, while locked
        assert r.status_code == 429 and r.json()["error"]["type"] == "rate_limited"
        assert 1 <= int(r.headers["Retry-After"]) <= window
        assert _login(client, t.email.upper(), t.password).status_code == 429
        time.sleep(max(0.0, locked_at + window + 0.1 - time.monotonic()))
        assert _login(client, t.email, t.password).status_code == 200
        # a success clears the count: two more failures do not lock
        assert [_login(client, t.email, "wrong").status_code for _ in range(2)] == [401] * 2
        assert _login(client, t.email, t.password).status_code == 200


def test_address_lock_covers_every_account(zhiku_home: Path) -> None:
    limits = {"api_login_max_failures": 0, "api_login_max_failures_per_address": 4,
              "api_login_window_seconds": 60}
    with _app(zhiku_home, **limits) as (client, t):
        codes = [_login(client, f"user{i}@nowhere.example", "a-wrong-password").status_code
                 for i in range(4)]
        assert codes == [401] * 4
        r = _login(client, t.email, t.password)
        assert r.status_code == 429 and int(r.headers["Retry-After"]) > 1
        token = invite(client, t, "new@acme.example", "viewer")["token"]
        r = client.post("/v1/auth/signup", json={"token": token, "password": "new-long-secret"})
        assert r.status_code == 429  # signing up checks a password too


def test_password_hashing_is_bounded(zhiku_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with _app(zhiku_home, api_password_hash_concurrency=2,
                          api_password_hash_wait_seconds=60) as (client, t):
        active, peak, lock = [0], [0], threading.Lock()
        real = sec.verify_password

        def counting(stored: str, password: str) -> bool:
            with lock:
                active[0] += 1
                peak[0] = max(peak[0], active[0])
            try:
                time.sleep(0.05)  # make overlaps certain if nothing bounds them
                return real(stored, password)
            finally:
                with lock:
                    active[0] -= 1

        monkeypatch.setattr(sec, "verify_password", counting)
        with ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(lambda i: _login(client, t.email, t.password).status_code,
                                  range(8)))
        assert codes == [200] * 8
        assert peak[0] == 2


def test_no_free_hashing_slot_answers_503_quickly(zhiku_home: Path) -> None:
    with _app(zhiku_home, api_password_hash_concurrency=1,
                          api_password_hash_wait_seconds=0.2) as (client, t):
        guard = client.app.state.api.guard  # type: ignore[attr-defined]
        with guard.hashing():  # another sign-in holds the only slot
            started = time.monotonic()
            r = _login(client, t.email, t.password)
            assert time.monotonic() - started < 2
        assert r.status_code == 503 and r.headers["Retry-After"] == "1"
        assert r.json()["error"]["type"] == "busy"
        assert _login(client, t.email, t.password).status_code == 200


def _counting(monkeypatch: pytest.MonkeyPatch, name: str) -> list[int]:
    calls = [0]
    real: Callable[..., Any] = getattr(sec, name)

    def wrapper(*args: Any) -> Any:
        calls[0] += 1
        return real(*args)

    monkeypatch.setattr(sec, name, wrapper)
    return calls


def test_unknown_and_known_emails_cost_one_verify(
    client: TestClient, tenant_a: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    hashes = _counting(monkeypatch, "hash_password")
    verifies = _counting(monkeypatch, "verify_password")
    assert _login(client, "nobody@nowhere.example", "a-guess").status_code == 401
    assert (hashes[0], verifies[0]) == (0, 1)
    assert _login(client, tenant_a.email, "a-guess").status_code == 401
    assert (hashes[0], verifies[0]) == (0, 2)
    r = _login(client, "nobody@nowhere.example", "a-guess")
    assert r.json() == _login(client, tenant_a.email, "a-guess").json()


@pytest.mark.parametrize(("password", "message"), [
    ("12345678", "at least 10 characters"),
    ("            ", "empty or only spaces"),
    ("aaaaaaaaaaaa", "different characters"),
    ("abababababab", "different characters"),
    ("password1234", "most common"),
    ("Qwertyuiop", "most common"),
    ("iloveyou2024!", "most common"),
    ("dana@nowhere.example", "e-mail"),
])
def test_weak_passwords_are_refused(password: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        check_password(password, "dana@nowhere.example")


def test_policy_applies_to_every_new_account(client: TestClient, tenant_a: Tenant) -> None:
    check_password("a-long-passphrase-of-mine", "dana@nowhere.example")
    db = open_database(client.app.state.api.settings)  # type: ignore[attr-defined]
    try:
        with pytest.raises(InvalidInput, match="most common"):
            AccountStore(db, CHEAP).create_user("zed@acme.example", "letmein123456")
    finally:
        db.close()
    token = invite(client, tenant_a, "zed@acme.example", "viewer")["token"]
    r = client.post("/v1/auth/signup", json={"token": token, "password": "aaaaaaaaaaaaaa"})
    assert r.status_code == 400 and "different characters" in r.json()["error"]["message"]


def test_admin_init_refuses_a_weak_password(zhiku_home: Path) -> None:
    run = subprocess.run(
        [ZHIKU, "admin", "init", "--email", "owner@acme.example", "--password-stdin"],
        input="password1234\n", capture_output=True, text=True,
        env={**os.environ, "ZHIKU_HOME": str(zhiku_home)},
    )
    assert run.returncode != 0 and "most common" in run.stdout + run.stderr


def test_metrics_need_an_unrestricted_admin(client: TestClient, tenant_a: Tenant) -> None:
    h = tenant_a.headers
    assert client.get("/metrics").status_code == 401
    read = client.post("/v1/keys", headers=h, json={"access": "read"}).json()["key"]
    assert client.get("/metrics", headers={"Authorization": f"Bearer {read}"}).status_code == 403
    r = client.get("/metrics", headers=h)
    assert r.status_code == 200 and "zhiku_http_requests_total" in r.text


def test_metrics_token(zhiku_home: Path) -> None:
    with _app(zhiku_home, metrics_token="scrape-secret-1") as (client, t):
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers=t.headers).status_code == 401  # the token only
        wrong = {"Authorization": "Bearer scrape-secret-2"}
        assert client.get("/metrics", headers=wrong).status_code == 401
        r = client.get("/metrics", headers={"Authorization": "Bearer scrape-secret-1"})
        assert r.status_code == 200 and "zhiku_jobs" in r.text
