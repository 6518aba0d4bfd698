"""PostgreSQL upkeep on a real server: the buffer warm-up (with and without ``pg_prewarm``,
within its budget) and the background thread that runs it and ``term_df`` compaction."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import psycopg
import pytest
from psycopg import sql
from store_conformance import MODEL, put
from test_pg_term_df import TEXTS, kept_counts, new_kb

from zhiku.core.settings import Settings
from zhiku.runtime import Runtime
from zhiku.store.db import open_postgres
from zhiku.store.postgres import postings_merge, prewarm
from zhiku.store.postgres import upkeep as upkeep_module
from zhiku.store.postgres.db import PgDatabase
from zhiku.store.postgres.store import PostgresStore
from zhiku.store.postgres.upkeep import Upkeep

pytestmark = pytest.mark.backend("postgres")

def _vectors(store: PostgresStore, kb: int, n: int = 300) -> None:
    ids = []
    for k in range(0, n, 50):
        _, got = put(store, kb, f"/v{k}.txt", [f"text number {k + j} of many" for j in range(50)])
        ids += got
    rng = np.random.default_rng(0)
    store.add_vectors(kb, MODEL, ids, rng.standard_normal((len(ids), 8)).astype(np.float32))


def _buffered(conn: psycopg.Connection[Any], name: str) -> int:
    row = conn.execute(
        "SELECT count(*) FROM pg_buffercache WHERE reldatabase = (SELECT oid FROM pg_database "
        "WHERE datname = current_database()) AND relfilenode = pg_relation_filenode(%s)",
        (name,)).fetchone()
    return int(row[0]) if row else 0


def test_warm_loads_what_searches_read_into_shared_buffers(
    pg_store: PostgresStore, pg_url: str
) -> None:
    _vectors(pg_store, new_kb(pg_store, "warm"))
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_buffercache")
        names = [name for name, _, _ in prewarm.relations(conn)]
        hnsw = [n for n in names if n.startswith("embeddings_hnsw_")]
        assert hnsw and {"term_df", "chunk_postings", "chunk_postings_toast", "chunks_tsv",
                         "chunks", "embeddings"} <= set(names)
        assert names.index("term_df") < names.index("chunk_postings") < names.index(hnsw[0])
        assert names.index(hnsw[0]) < names.index("chunks") < names.index("chunks_tsv")
        for name in ("term_df", "chunk_postings", "chunks_tsv", hnsw[0], "chunks"):
            conn.execute("SELECT pg_buffercache_evict_relation(%s::regclass)", (name,))
            assert _buffered(conn, name) == 0
        report = prewarm.warm(pg_store.db, 2**30)
        assert report is not None and report.method == "pg_prewarm" and report.mb > 0
        for name in ("term_df", "chunk_postings", "chunks_tsv", hnsw[0], "chunks"):
            blocks = int(conn.execute("SELECT pg_relation_size(%s) / 8192",
                                      (name,)).fetchone()[0])
            assert report.blocks[name] == blocks > 0
            assert _buffered(conn, name) == blocks, name


def test_warm_stays_within_its_budget(pg_store: PostgresStore) -> None:
    _vectors(pg_store, new_kb(pg_store, "budget"))
    report = prewarm.warm(pg_store.db, 3 * 8192)
    assert report is not None and report.budget_blocks == 3 and sum(report.blocks.values()) == 3
    assert next(iter(report.blocks)) == "term_df"  # the statistics first


def test_one_process_warms_a_server_at_a_time(pg_store: PostgresStore, pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", (prewarm._WARM_LOCK,))
        assert prewarm.warm(pg_store.db, 2**30) is None  # the other process is warming
        other.execute("SELECT pg_advisory_unlock(%s)", (prewarm._WARM_LOCK,))
    assert prewarm.warm(pg_store.db, 2**30) is not None


def test_warm_without_pg_prewarm_reads_the_statistics(pg_store: PostgresStore, pg_url: str) -> None:
    """A role that may not create the extension: no error, the small tables are read."""
    put(pg_store, new_kb(pg_store, "plain"), "/a.txt", TEXTS["/a.txt"])
    role = f"zhiku_plain_{urlsplit(pg_url).path.strip('/')}"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_prewarm'"
                            ).fetchone() is None
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD 'pw'").format(sql.Identifier(role)))
        conn.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {}").format(
            sql.Identifier(role)))
    parts = urlsplit(pg_url)
    netloc = f"{role}:pw@{parts.netloc.rsplit('@', 1)[-1]}"
    db = PgDatabase(urlunsplit(parts._replace(netloc=netloc)), pool_size=2)  # no migration
    try:
        report = prewarm.warm(db, 2**30)
    finally:
        db.close()
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))
    assert report is not None and report.method == "read"
    assert "term_df" in report.blocks and set(report.blocks) <= {"term_df", "chunk_stats"}


def test_upkeep_warms_and_compacts_in_the_background(pg_store: PostgresStore, pg_url: str) -> None:
    kb = new_kb(pg_store, "kept")
    doc, _ = put(pg_store, kb, "/b.txt", TEXTS["/b.txt"])
    put(pg_store, kb, "/a.txt", TEXTS["/a.txt"])
    pg_store.delete_document(doc.id)
    fresh = "SELECT count(*) FROM chunk_postings WHERE fresh"
    assert pg_store.db.conn.execute(fresh).fetchone()[0] > 0
    upkeep = Upkeep(pg_store.db, prewarm=True, prewarm_max_bytes=2**30, interval=0.05)
    upkeep.start()
    try:
        assert upkeep.rounds.wait(30)
    finally:
        upkeep.stop()
    assert upkeep.last_warm is not None and upkeep.last_warm.method == "pg_prewarm"
    assert upkeep.compacted > 0 and kept_counts(pg_store)[1:] == (0, 0)
    assert upkeep.merged > 0 and pg_store.db.conn.execute(fresh).fetchone()[0] == 0


def test_upkeep_warms_again_only_after_the_server_restarted(pg_store: PostgresStore) -> None:
    upkeep = Upkeep(pg_store.db, prewarm=True, prewarm_max_bytes=2**30)
    upkeep.round()
    assert upkeep.last_warm is not None
    upkeep.last_warm = None
    upkeep.round()  # same server start time: nothing to do
    assert upkeep.last_warm is None
    upkeep._started_at = "2000-01-01 00:00:00+00"  # as seen before a restart
    upkeep.round()
    assert upkeep.last_warm is not None


def test_upkeep_failures_never_stop_the_process(pg_url: str) -> None:
    """A server that cannot be reached: rounds log and return, the thread keeps running."""
    db = open_postgres(pg_url, pool_size=1)
    db.close()  # every statement now fails
    upkeep = Upkeep(db, prewarm=True, prewarm_max_bytes=2**30, interval=0.01)
    upkeep.round()  # no exception
    upkeep.start()
    try:
        upkeep.rounds.wait(10)
        upkeep.rounds.clear()
        assert upkeep.rounds.wait(10)  # still going
    finally:
        upkeep.stop()
    assert upkeep.last_warm is None


def test_the_runtime_starts_and_stops_upkeep_on_postgres_only(pg_url: str, tmp_path: Any) -> None:
    with Runtime(Settings(home=tmp_path / "pg", database_url=pg_url, pg_pool_size=2)) as rt:
        upkeep = rt.start_upkeep(interval=0.05)
        assert upkeep is not None and rt.start_upkeep() is upkeep
        assert upkeep.rounds.wait(30) and upkeep.last_warm is not None
    with Runtime(Settings(home=tmp_path / "pg-off", database_url=pg_url, pg_pool_size=2,
                          pg_prewarm=False)) as rt:
        upkeep = rt.start_upkeep(interval=0.05)
        assert upkeep is not None and upkeep.rounds.wait(30) and upkeep.last_warm is None
    with Runtime(Settings(home=tmp_path / "lite", database_url=None)) as rt:
        assert rt.start_upkeep() is None


def test_merges_hurry_only_once_the_writers_pause(pg_store: PostgresStore,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(upkeep_module, "SWEEP_SECONDS", 0.0)  # one batch of lexemes a round
    kb = new_kb(pg_store, "bulk")
    words = [f"w{n}x" for n in range(4 * postings_merge.BATCH)]  # lexemes for four batches
    put(pg_store, kb, "/bulk.txt", [" ".join(words[i:i + 50]) for i in range(0, len(words), 50)])
    upkeep = Upkeep(pg_store.db, prewarm=False, prewarm_max_bytes=0, interval=30.0)
    upkeep.round()  # the first round counts as writes seen: one merge step, then a full pause
    assert upkeep.merged > 0 and upkeep.next_wait() == 30.0
    deadline = time.monotonic() + 10
    while upkeep.next_wait() == 30.0 and time.monotonic() < deadline:
        time.sleep(0.2)  # the server's statistics may report the writes a little later
        upkeep.round()
    assert upkeep.next_wait() == upkeep_module.BUSY_PAUSE  # writers quiet, merge unfinished
    while upkeep.next_wait() == upkeep_module.BUSY_PAUSE and time.monotonic() < deadline:
        upkeep.round()
    fresh = pg_store.db.conn.execute("SELECT count(*) FROM chunk_postings WHERE fresh")
    assert fresh.fetchone()[0] == 0 and upkeep.next_wait() == 30.0
