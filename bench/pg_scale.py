"""PostgreSQL at scale (issue 5): one knowledge base of N chunks (default 1,000,000) of Chinese
news on PostgreSQL and on SQLite, measured in one run.

Parts (``--parts``, default all):
  build   SQLite first (real articles, then remixes past the corpus: ``_scale_data.py``; the
          product's parser, chunker, analyzer and 256-d hashing vectors), then ``zhiku migrate``
          copies it into PostgreSQL (COPY, verified by checksums) and builds the HNSW index once.
          Kept under bench/out/pg_scale_<N> and reused with --reuse.
  size    bytes per chunk on PostgreSQL: text, tsvector, vector, their indexes (GIN, HNSW).
  search  hybrid (and keyword, vector) p50/p95 on both backends over the same chunks (100
          held-out articles' first sentences, after their datelines), query by
          query, interleaved with a fixed CPU reference (numpy 100k x 384 on one BLAS thread) that
          measures the other tenants' load in the same run. Target: PostgreSQL hybrid p95 ≤ 100 ms.
          Caches are warm, as on a server answering queries for a while: what PostgreSQL's
          searches read is loaded into shared buffers (pg_prewarm), SQLite's file into the OS
          page cache. (The benchmark's server starts with empty buffers each run.)
  cold    after a server restart (empty shared buffers), the hybrid p50/p95 of the queries'
          first pass, then of a second pass (warm). The product's own warm-up runs where the code
          has one (``Runtime.start_upkeep``): its seconds and MB are reported, and the first pass
          starts once it is done. Run it with another checkout's src on PYTHONPATH for an A/B.
  recall  recall@10 of the HNSW search (the product's query, through ``PgVectorIndex``) against
          exact numpy search over the same vectors, for several hnsw.ef_search. Target ≥ 0.95.
  ingest  chunks/s with 1 vs 2 ``zhiku worker`` processes (``_scale_ingest.py``). Target ≥ 1.5x.

    .venv/bin/python bench/pg_scale.py                         # 1M chunks: builds, then measures
    .venv/bin/python bench/pg_scale.py --reuse                 # measures the built databases
    .venv/bin/python bench/pg_scale.py --chunks 20000          # small scale (pg_scale_20k.json)
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from threadpoolctl import threadpool_limits

import _scale_ingest
from _common import OUT, summary_ms, write_result
from _pg_server import SERVER_SETTINGS, database, prewarm, restart, start
from _scale_data import EMBEDDER, build_sqlite, queries
from zhiku.core.settings import Settings
from zhiku.models.embedders.hashing import HashingEmbedder
from zhiku.service import Zhiku
from zhiku.store.postgres.vectors import HNSW_EF_CONSTRUCTION, HNSW_M, index_name
from zhiku.store.transfer.run import MigrateOptions, migrate

KB = "news"
# The searcher gives an English-only model's vectors no weight for Chinese queries, so a hybrid
# search of a Chinese question would be BM25 alone. The hashing embedder hashes the analyzer's
# own terms (jieba words and bigrams included): it is as multilingual as BM25, and counting it
# so makes every hybrid search here run both retrievers, as the benchmark intends.
HashingEmbedder.multilingual = True


class StepClock:
    """``zhiku migrate``'s progress as seconds per step (copy, index, verify, ...)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._step = ""
        self._t = 0.0

    def start(self, step: str, table: str, total: int | None) -> None:
        self._step, self._t = step, time.perf_counter()

    def advance(self, rows: int) -> None:
        pass

    def finish(self) -> None:
        spent = time.perf_counter() - self._t
        self.seconds[self._step] = round(self.seconds.get(self._step, 0.0) + spent, 1)


def build(home: Path, uri: str, db_name: str, chunks: int, reuse: bool,
          sqlite_home: Path | None = None) -> dict[str, Any]:
    """SQLite (or ``sqlite_home``'s, built by ann_scale.py), then PostgreSQL by
    ``zhiku migrate``; what it took (kept in built.json)."""
    marker = home / "built.json"
    if reuse and marker.exists():
        return dict(json.loads(marker.read_text()), reused=True)
    target = home / "sqlite"
    if target.is_symlink():
        target.unlink()
    shutil.rmtree(target, ignore_errors=True)
    marker.unlink(missing_ok=True)
    url = database(uri, db_name, fresh=True)
    t = time.perf_counter()
    if sqlite_home is None:
        with Zhiku(Settings(home=target)) as zk:
            counts = build_sqlite(zk, KB, chunks)
    else:
        home.mkdir(parents=True, exist_ok=True)
        target.symlink_to(sqlite_home.resolve(), target_is_directory=True)
        with Zhiku(Settings(home=target, ann=False)) as zk:
            stats = zk.stats(KB)[KB]
        counts = {"chunks": stats["chunks"], "documents": stats["documents"]}
    sqlite_s = time.perf_counter() - t
    print(f"sqlite built: {counts} in {sqlite_s:.0f} s", flush=True)
    clock = StepClock()
    t = time.perf_counter()
    report = migrate(home / "sqlite" / "zhiku.db", url,
                     MigrateOptions(maintenance_work_mem=SERVER_SETTINGS["maintenance_work_mem"]),
                     clock)
    migrate_s = time.perf_counter() - t
    assert report.ok, [t for t in report.tables if not t.ok]
    info = {
        "chunks": counts["chunks"], "documents": counts["documents"],
        "sqlite_build_seconds": round(sqlite_s, 1),
        "sqlite_build_chunks_per_s": round(counts["chunks"] / sqlite_s, 1),
        "sqlite_db_mb": round((home / "sqlite" / "zhiku.db").stat().st_size / 2**20, 1),
        "migrate_seconds": round(migrate_s, 1), "migrate_step_seconds": clock.seconds,
        "migrate_verified": report.verified,
        "migrate_copy_chunks_per_s": round(counts["chunks"] / clock.seconds["copy"], 1),
        "hnsw": {"m": HNSW_M, "ef_construction": HNSW_EF_CONSTRUCTION,
                 "build_seconds": clock.seconds.get("index")},
    }
    marker.write_text(json.dumps(info, indent=2))
    print(f"postgres built: {info}", flush=True)
    return info


def hnsw_params(url: str, model: str, dim: int) -> tuple[int, int]:
    """(m, ef_construction) of the HNSW index as built."""
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT reloptions FROM pg_class WHERE relname = %s",
                           (index_name(model, dim),)).fetchone()
    options = dict(o.split("=") for o in (row[0] if row and row[0] else []))
    return int(options.get("m", 16)), int(options.get("ef_construction", 64))


def rebuild_hnsw(url: str, model: str, dim: int, m: int, ef_construction: int) -> float:
    """Replace the HNSW index with one built with other parameters; its build seconds."""
    name = index_name(model, dim)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"SET maintenance_work_mem = '{SERVER_SETTINGS['maintenance_work_mem']}'")
        conn.execute(f"DROP INDEX IF EXISTS {name}")
        t = time.perf_counter()
        conn.execute(
            f"CREATE INDEX {name} ON embeddings USING hnsw ((vector::vector({dim})) "
            f"vector_cosine_ops) WITH (m = {m}, ef_construction = {ef_construction}) "
            f"WHERE model = '{model}' AND dim = {dim}")
        return time.perf_counter() - t


def sizes(url: str, model: str, dim: int) -> dict[str, Any]:
    """Bytes per chunk: table heaps (with TOAST), their indexes, sampled column sizes. Divided by
    the rows of each table (the ingestion runs add knowledge bases of their own)."""
    hnsw = index_name(model, dim)
    with psycopg.connect(url) as conn:
        def one(query: str) -> Any:
            return float(conn.execute(query).fetchone()[0] or 0)

        chunks = one("SELECT count(*) FROM chunks")
        vectors = one("SELECT count(*) FROM embeddings")
        indexed = one(f"SELECT count(*) FROM embeddings WHERE model = '{model}' AND dim = {dim}")
        gin = one("SELECT pg_relation_size('chunks_tsv')")
        hnsw_bytes = one(f"SELECT pg_relation_size('{hnsw}')")
        per_chunk = {
            "chunks_heap_and_toast": one("SELECT pg_table_size('chunks')") / chunks,
            "chunks_gin_tsv": gin / chunks,
            "chunks_btree_indexes": (one("SELECT pg_indexes_size('chunks')") - gin) / chunks,
            "embeddings_heap": one("SELECT pg_table_size('embeddings')") / vectors,
            "embeddings_hnsw": hnsw_bytes / indexed,
            "embeddings_btree_indexes": (one("SELECT pg_indexes_size('embeddings')")
                                         - one("SELECT coalesce(sum(pg_relation_size(i.indexrelid)"
                                               "), 0) FROM pg_index i JOIN pg_am a ON a.oid = ("
                                               "SELECT relam FROM pg_class WHERE oid = "
                                               "i.indexrelid) WHERE a.amname = 'hnsw'"))
            / vectors,
            "documents_total": one("SELECT pg_total_relation_size('documents')") / chunks,
            "term_df_total": one("SELECT pg_total_relation_size('term_df')") / chunks,
            "chunk_postings_total": one(
                "SELECT coalesce(pg_total_relation_size(to_regclass('chunk_postings')), 0)")
            / chunks,
        }
        columns = conn.execute(
            "SELECT avg(pg_column_size(c.text)), avg(pg_column_size(c.tsv)), "
            "avg(pg_column_size(e.vector)) FROM chunks c TABLESAMPLE SYSTEM (2) "
            "JOIN embeddings e ON e.chunk_id = c.id").fetchone()
        database_bytes = one("SELECT pg_database_size(current_database())")
    total = sum(per_chunk.values())
    return {
        "chunks_in_table": int(chunks), "vectors_in_table": int(vectors),
        "vectors_in_hnsw": int(indexed),
        "bytes_per_chunk": {k: round(v) for k, v in per_chunk.items()},
        "bytes_per_chunk_total": round(total),
        "gb_per_million_chunks": round(total * 1e6 / 2**30, 2),
        "database_bytes": int(database_bytes),
        "sampled_column_bytes": {"text": round(float(columns[0] or 0)),
                                 "tsv": round(float(columns[1] or 0)),
                                 "vector": round(float(columns[2] or 0))},
    }


def read_through(path: Path) -> float:
    """Read a file once (into the OS page cache, where SQLite's pages live); its MB."""
    size = 0
    with path.open("rb") as f:
        while block := f.read(1 << 24):
            size += len(block)
    return round(size / 2**20, 1)


def without_postings(pg: Zhiku, q: str, times: dict[str, list[float]]) -> bool:
    """PostgreSQL's hybrid and keyword search of ``q`` with BM25 ranking every candidate's
    tsvector, timed into ``times``; whether the keyword hits and scores equal the postings'."""
    pg.store.keyword_postings = False  # type: ignore[attr-defined]
    try:
        for mode in ("hybrid", "keyword"):
            t = time.perf_counter()
            hits = pg.search(KB, q, top_k=10, mode=mode)
            times.setdefault(f"postgres_{mode}_without_postings", []).append(
                time.perf_counter() - t)
    finally:
        pg.store.keyword_postings = True  # type: ignore[attr-defined]
    with_postings = pg.search(KB, q, top_k=10, mode="keyword")
    return [(h.chunk_id, h.score) for h in with_postings] == [(h.chunk_id, h.score)
                                                              for h in hits]


def measure_search(lite: Zhiku, pg: Zhiku, qs: list[str], warm: list[str]) -> dict[str, Any]:
    """Per query, interleaved: the CPU reference, then each backend's hybrid, keyword, vector,
    then PostgreSQL's hybrid and keyword with BM25 ranking every candidate from its tsvector
    instead of the postings (the same-run baseline; their hits must be the same). SQLite's
    in-memory keyword index is built first. The warm-up queries are others (the searcher caches
    document frequencies for 30 s)."""
    rng = np.random.default_rng(0)
    ref_matrix = rng.standard_normal((100_000, 384), dtype=np.float32)
    ref_query = rng.standard_normal(384, dtype=np.float32)
    backends = {"postgres": pg, "sqlite": lite}
    out: dict[str, Any] = {}
    memory = getattr(lite.store, "_memory", None)  # SQLite's in-memory keyword index
    if memory is not None:  # built before timing: the build takes a core for minutes at 1M
        t = time.perf_counter()
        memory.refresh()
        out["sqlite_keyword_index_build_s"] = round(time.perf_counter() - t, 1)
    for q in warm:
        for zk in backends.values():
            for mode in ("hybrid", "keyword", "vector"):
                zk.search(KB, q, top_k=10, mode=mode)
    times: dict[str, list[float]] = {"reference_numpy_100kx384": []}
    overlap = []
    postings_switch = hasattr(pg.store, "keyword_postings")  # absent before the postings
    same: list[bool] = []
    for q in qs:
        with threadpool_limits(1):  # a second BLAS thread spins on after, slowing what follows
            t = time.perf_counter()
            ref_matrix @ ref_query
            times["reference_numpy_100kx384"].append(time.perf_counter() - t)
        found = {}
        for name, zk in backends.items():
            for mode in ("hybrid", "keyword", "vector"):
                t = time.perf_counter()
                hits = zk.search(KB, q, top_k=10, mode=mode)
                times.setdefault(f"{name}_{mode}", []).append(time.perf_counter() - t)
                if mode == "hybrid":
                    found[name] = {h.chunk_id for h in hits}
        if postings_switch:
            same.append(without_postings(pg, q, times))
        overlap.append(len(found["postgres"] & found["sqlite"]) / max(len(found["sqlite"]), 1))
    out |= {k: summary_ms(v) for k, v in times.items()}
    ref = out["reference_numpy_100kx384"]["p50_ms"]
    for name in backends:
        hybrid = out[f"{name}_hybrid"]
        out[f"{name}_hybrid_p95_vs_reference_p50"] = round(hybrid["p95_ms"] / ref, 2)
    out["postgres_vs_sqlite_hybrid_p50"] = round(
        out["postgres_hybrid"]["p50_ms"] / out["sqlite_hybrid"]["p50_ms"], 3)
    out["postgres_vs_sqlite_hybrid_p95"] = round(
        out["postgres_hybrid"]["p95_ms"] / out["sqlite_hybrid"]["p95_ms"], 3)
    out["hybrid_top10_overlap_postgres_vs_sqlite"] = round(float(np.mean(overlap)), 4)
    if same:
        out["postgres_keyword_same_hits_and_scores_with_and_without_postings"] = (
            f"{sum(same)}/{len(same)}")
        for mode in ("hybrid", "keyword"):
            base = out[f"postgres_{mode}_without_postings"]
            out[f"postgres_{mode}_p50_vs_without_postings"] = round(
                out[f"postgres_{mode}"]["p50_ms"] / base["p50_ms"], 3)
            out[f"postgres_{mode}_p95_vs_without_postings"] = round(
                out[f"postgres_{mode}"]["p95_ms"] / base["p95_ms"], 3)
    out["target_postgres_hybrid_p95_ms"] = 50
    return out


def measure_cold(settings_pg: Settings, qs: list[str]) -> dict[str, Any]:
    """Right after a server restart: the product's warm-up (if the code has one), then two
    passes of hybrid searches, the first on whatever the buffers hold."""
    pg = Zhiku(settings_pg)
    out: dict[str, Any] = {}
    try:
        start_upkeep = getattr(pg.runtime, "start_upkeep", None)
        if start_upkeep is not None:
            t = time.perf_counter()
            upkeep = start_upkeep()
            upkeep.rounds.wait(600)
            report = upkeep.last_warm
            out["product_warm_up"] = {
                "seconds": round(time.perf_counter() - t, 2),
                "method": report.method if report else None,
                "mb": report.mb if report else 0.0,
            }
        for label in ("first_pass", "second_pass"):
            times = []
            for q in qs:
                t = time.perf_counter()
                pg.search(KB, q, top_k=10, mode="hybrid")
                times.append(time.perf_counter() - t)
            out[label] = summary_ms(times)
    finally:
        pg.close()
    out["first_vs_second_p95"] = round(out["first_pass"]["p95_ms"]
                                       / out["second_pass"]["p95_ms"], 3)
    return out


def measure_recall(lite: Zhiku, pg: Zhiku, qs: list[str], ef_values: list[int]) -> dict[str, Any]:
    """recall@10 of the HNSW search against exact search, per ef_search; latency of each."""
    kb = lite.kb(KB)
    model = lite.embedder(kb.embedder).model_id
    ids, matrix = lite.store.load_vectors(kb.id, model)
    embedder = lite.embedder(kb.embedder)
    index = pg.vectors
    pg_kb = pg.kb(KB).id
    exact: list[tuple[set[int], float]] = []
    vectors = []
    for q in qs:
        vec = embedder.embed_batch([q])[0].astype(np.float32)
        scores = matrix @ vec
        top = np.argsort(-scores, kind="stable")[:10]
        exact.append(({int(ids[i]) for i in top}, float(scores[top[-1]])))
        vectors.append(vec)
    out: dict[str, Any] = {"queries": len(qs), "exact": "numpy brute force over the same vectors",
                           "by_ef_search": {}}
    default_ef = index.ef_search
    for ef in ef_values:
        index.ef_search = ef
        strict, tied, times = [], [], []
        for (truth, tenth), vec in zip(exact, vectors, strict=True):
            t = time.perf_counter()
            got = index.approximate(pg_kb, model, vec, 10)
            times.append(time.perf_counter() - t)
            found = {cid for cid, _ in got}
            strict.append(len(found & truth) / 10)
            # a neighbour scoring as high as the 10th exact one is as good (ties are common
            # with hashing vectors)
            tied.append(min(10, sum(1 for cid, s in got if cid in truth or s >= tenth - 1e-6)) / 10)
        out["by_ef_search"][str(ef)] = {"recall_at_10": round(float(np.mean(strict)), 4),
                                        "recall_at_10_ties_counted": round(float(np.mean(tied)), 4),
                                        "latency": summary_ms(times)}
        print(f"  ef_search {ef}: recall@10 {np.mean(strict):.4f} (ties counted "
              f"{np.mean(tied):.4f}), p50 {summary_ms(times)['p50_ms']} ms", flush=True)
    index.ef_search = default_ef
    out["product_ef_search"] = default_ef
    out["target_recall_at_10"] = 0.95
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--chunks", type=int, default=1_000_000)
    ap.add_argument("--reuse", action="store_true", help="reuse the built databases")
    ap.add_argument("--parts", default="build,size,search,recall,ingest",
                    help="also: cold (not in the default)")
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--ef-search", default="40,100,200,400,1000")
    ap.add_argument("--hnsw-m", type=int, default=HNSW_M)
    ap.add_argument("--hnsw-ef-construction", type=int, default=HNSW_EF_CONSTRUCTION)
    ap.add_argument("--ingest-docs", type=int, default=1000)
    ap.add_argument("--files-per-job", type=int, default=4)
    ap.add_argument("--ingest-order", default="1,2,2,1", help="worker counts, run by run")
    ap.add_argument("--name", help="result file name (default pg_scale or pg_scale_<N>k)")
    ap.add_argument("--sqlite", type=Path,
                    help="build PostgreSQL from this SQLite home (e.g. bench/out/ann_scale_1000k) "
                         "instead of building one")
    args = ap.parse_args()
    parts = args.parts.split(",")
    label = "1m" if args.chunks == 1_000_000 else f"{args.chunks // 1000}k"
    home = OUT / f"pg_scale_{label}"
    _server, uri = start(OUT / "pg_scale_pgdata")
    result: dict[str, Any] = {"server_settings": SERVER_SETTINGS}
    started = time.perf_counter()
    db_name = f"zhiku_scale_{label}"
    if "build" in parts:
        result["build"] = build(home, uri, db_name, args.chunks, args.reuse, args.sqlite)
    url = database(uri, db_name, fresh=False)
    settings_pg = Settings(home=home / "pg-home", database_url=url, pg_pool_size=4)
    lite, pg = Zhiku(Settings(home=home / "sqlite")), Zhiku(settings_pg)
    model = lite.embedder(EMBEDDER).model_id
    chunks = lite.stats(KB)[KB]["chunks"]
    result["chunks"] = chunks
    if hnsw_params(url, model, 256) != (args.hnsw_m, args.hnsw_ef_construction):
        seconds = rebuild_hnsw(url, model, 256, args.hnsw_m, args.hnsw_ef_construction)
        result["hnsw_rebuilt"] = {"m": args.hnsw_m, "ef_construction": args.hnsw_ef_construction,
                                  "build_seconds": round(seconds, 1)}
    result["hnsw"] = {"m": args.hnsw_m, "ef_construction": args.hnsw_ef_construction,
                      "product_ef_search": pg.vectors.ef_search}
    qs = queries(args.queries + 20)
    qs, warm = qs[:args.queries], qs[args.queries:]
    result["waited_for_autovacuum_s"] = _scale_ingest.quiet_vacuum(url)
    if "size" in parts:
        result["size"] = sizes(url, model, 256)
        print("size:", result["size"]["bytes_per_chunk"], flush=True)
    if "search" in parts:
        result["prewarmed_mb"] = prewarm(url)
        result["sqlite_file_read_mb"] = read_through(home / "sqlite" / "zhiku.db")
        result["search"] = measure_search(lite, pg, qs, warm)
        s = result["search"]
        pg_h, lite_h = s["postgres_hybrid"], s["sqlite_hybrid"]
        print(f"search: postgres hybrid p50 {pg_h['p50_ms']} p95 {pg_h['p95_ms']} ms; sqlite "
              f"hybrid p50 {lite_h['p50_ms']} p95 {lite_h['p95_ms']} ms; reference p50 "
              f"{s['reference_numpy_100kx384']['p50_ms']} ms", flush=True)
    if "cold" in parts:
        lite.close()
        pg.close()
        _server, uri = restart(_server, OUT / "pg_scale_pgdata")
        settings_pg = Settings(home=home / "pg-home", database_url=database(uri, db_name,
                                                                           fresh=False),
                               pg_pool_size=4)
        result["cold"] = measure_cold(settings_pg, qs)
        c = result["cold"]
        print(f"cold: warm-up {c.get('product_warm_up')}; first pass p50 "
              f"{c['first_pass']['p50_ms']} p95 {c['first_pass']['p95_ms']} ms; second pass p50 "
              f"{c['second_pass']['p50_ms']} p95 {c['second_pass']['p95_ms']} ms", flush=True)
        lite, pg = Zhiku(Settings(home=home / "sqlite")), Zhiku(settings_pg)
    if "recall" in parts:
        result["recall"] = measure_recall(lite, pg, qs, [int(x) for x in args.ef_search.split(",")])
    lite.close()
    pg.close()
    if "ingest" in parts:
        order = [int(x) for x in args.ingest_order.split(",")]
        result["ingest"] = _scale_ingest.measure(url, home, args.ingest_docs, args.files_per_job,
                                                 order)
        print("ingest:", result["ingest"]["mean_chunks_per_s"],
              "ratio", result["ingest"].get("ratio_2_vs_1_workers"), flush=True)
    result["bench_seconds"] = round(time.perf_counter() - started, 1)
    name = args.name or ("pg_scale" if label == "1m" else f"pg_scale_{label}")
    print("wrote", write_result(name, result))


if __name__ == "__main__":
    main()
