"""Sign-in throttle: failures per account and per client address lock them for a while, and a
semaphore bounds how many password hashes run at once.

Each argon2 hash takes 64 MiB and a core for ~0.1 s; without a bound, unauthenticated requests
could take the server's memory. State is per process, like the request rate limit.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from zhiku.accounts.errors import BadCredentials, Busy
from zhiku.core.errors import RateLimited
from zhiku.core.settings import Settings

_SWEEP_AT = 10_000  # entries kept before expired ones are dropped


@dataclass(slots=True)
class _Record:
    failures: list[float] = field(default_factory=list)
    locked_until: float = 0.0


class _Counter:
    """Failures per name within a window; ``limit`` of them lock the name for the window."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._records: dict[str, _Record] = {}

    def wait(self, name: str, now: float) -> float:
        """Seconds until ``name`` may try again (0: now)."""
        record = self._records.get(name)
        return 0.0 if record is None else max(0.0, record.locked_until - now)

    def fail(self, name: str, now: float) -> None:
        if self.limit <= 0:
            return
        if len(self._records) >= _SWEEP_AT:
            self._sweep(now)
        record = self._records.setdefault(name, _Record())
        record.failures = [t for t in record.failures if t > now - self.window] + [now]
        if len(record.failures) >= self.limit:
            record.failures.clear()
            record.locked_until = now + self.window

    def clear(self, name: str) -> None:
        self._records.pop(name, None)

    def _sweep(self, now: float) -> None:
        stale = [
            name for name, r in self._records.items()
            if r.locked_until <= now and all(t <= now - self.window for t in r.failures)
        ]
        for name in stale:
            del self._records[name]


class LoginGuard:
    """What every password check goes through: ``check`` before, ``failed``/``succeeded`` after,
    the hash itself inside ``hashing()``."""

    def __init__(
        self,
        *,
        max_failures: int,
        max_failures_per_address: int,
        window_seconds: float,
        hash_concurrency: int,
        hash_wait_seconds: float,
    ) -> None:
        self._accounts = _Counter(max_failures, window_seconds)
        self._addresses = _Counter(max_failures_per_address, window_seconds)
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(hash_concurrency)
        self._hash_wait = hash_wait_seconds

    @classmethod
    def of(cls, settings: Settings) -> LoginGuard:
        """The guard the settings describe."""
        return cls(
            max_failures=settings.api_login_max_failures,
            max_failures_per_address=settings.api_login_max_failures_per_address,
            window_seconds=settings.api_login_window_seconds,
            hash_concurrency=settings.api_password_hash_concurrency,
            hash_wait_seconds=settings.api_password_hash_wait_seconds,
        )

    def check(self, account: str, address: str) -> None:
        """Raise ``RateLimited`` while the account or the address is locked."""
        now = time.monotonic()
        with self._lock:
            wait = max(
                self._accounts.wait(account.lower(), now), self._addresses.wait(address, now)
            )
        if wait > 0:
            raise RateLimited(
                "too many failed sign-ins; try again later", retry_after=max(1, math.ceil(wait))
            )

    def failed(self, account: str, address: str) -> None:
        """Count a wrong password against the account and the address."""
        now = time.monotonic()
        with self._lock:
            self._accounts.fail(account.lower(), now)
            self._addresses.fail(address, now)

    def succeeded(self, account: str) -> None:
        """A right password clears the account's failures (not the address's)."""
        with self._lock:
            self._accounts.clear(account.lower())

    @contextmanager
    def hashing(self) -> Iterator[None]:
        """Hold one hashing slot, or raise ``Busy`` after waiting the configured time."""
        if not self._slots.acquire(timeout=self._hash_wait):
            raise Busy("the server is busy signing people in; try again shortly", retry_after=1)
        try:
            yield
        finally:
            self._slots.release()

    @contextmanager
    def attempt(self, account: str, address: str) -> Iterator[None]:
        """One password check for ``account`` from ``address``: refused while either is locked,
        run in a hashing slot, a ``BadCredentials`` inside counted as a failure."""
        self.check(account, address)
        with self.hashing():
            self.check(account, address)  # a failure may have locked it while this one waited
            try:
                yield
            except BadCredentials:
                self.failed(account, address)
                raise
        self.succeeded(account)
