"""Ingestion throughput, end to end, against the raw embedder on the same chunks, same run.

Parts (``--parts``, default all):
  hashing     N news articles (default 10,000) with the trivial ``hashing`` embedder: the
              pipeline's own overhead, chunks/s into the durable store with Chinese full-text
              indexing done (target ≥ 1,000 chunks/s). Also peak RSS and keyword freshness.
  news-model  a subset of news articles (default 1,000) with the bundled MiniLM model.
  scifact     the 5,183 SciFact abstracts (one chunk each) with MiniLM.

For each model part the chunk texts the pipeline embedded (``index_text`` of every searchable
chunk) are read back and embedded again with ``embed_texts`` at the same batch size: the raw
embedder rate. The ratio pipeline/raw is the figure of merit (target ≥ 0.85).

Freshness: every ``--probe-every``-th document, a second thread searches (keyword mode, own
SQLite connection) for words of that document every ``--probe-poll-ms`` (default 20) until it
is found; the latency is measured
from the moment the pipeline takes the item (before reading and parsing it) — an upper bound
on "searchable after its parse" (target ≤ 1 s).

    .venv/bin/python bench/ingest_throughput.py
    .venv/bin/python bench/ingest_throughput.py --parts hashing --news 10000
"""

from __future__ import annotations

import argparse
import queue
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from typing import Any

from _common import (
    OUT,
    news_articles,
    peak_rss_mb,
    reset_peak_rss,
    scifact_corpus,
    scifact_markdown,
    summary_ms,
    write_result,
)
from zhiku.core.settings import Settings
from zhiku.ingest.events import FileResult
from zhiku.ingest.pipeline import SourceItem
from zhiku.models.embedders import embed_texts
from zhiku.service import Zhiku
from zhiku.text.indexing import index_text


class Freshness:
    """Probes keyword search from another thread for sampled documents."""

    def __init__(self, zk: Zhiku, kb: str, poll_s: float) -> None:
        self._zk = zk
        self._poll_s = poll_s
        self._kb = kb
        self._queue: queue.Queue[tuple[str, str, float] | None] = queue.Queue()
        self.latencies: list[float] = []
        self.after_write: list[float] = []
        self.missed = 0
        self._done_at: dict[str, float] = {}
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def taken(self, source: str, probe: str) -> None:
        self._queue.put((source, probe, time.perf_counter()))

    def file_done(self, result: FileResult) -> None:
        self._done_at[result.source] = time.perf_counter()

    def queued(self, count: int) -> None:
        pass

    def embedded(self, count: int) -> None:
        pass

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        while (job := self._queue.get()) is not None:
            source, probe, taken_at = job
            deadline = taken_at + 10.0
            found = False
            while time.perf_counter() < deadline:
                hits = self._zk.search(self._kb, probe, top_k=1, mode="keyword",
                                       filters={"sources": [source]})
                if hits:
                    found = True
                    break
                time.sleep(self._poll_s)
            now = time.perf_counter()
            if found:
                self.latencies.append(now - taken_at)
                done = self._done_at.get(source)
                if done is not None:
                    self.after_write.append(max(0.0, now - done))
            else:
                self.missed += 1


def chunk_texts(zk: Zhiku, kb: str) -> list[str]:
    """What the pipeline embedded: index_text of each searchable chunk, in id order."""
    kb_id = zk.kb(kb).id
    conn = sqlite3.connect(zk.settings.db_path)
    rows = conn.execute(
        "SELECT heading_path, text FROM chunks WHERE kb_id = ? AND searchable = 1 ORDER BY id",
        (kb_id,),
    )
    import json

    return [index_text(json.loads(r[0]), r[1]) for r in rows]


def run_part(name: str, embedder: str, items: Iterator[tuple[str, bytes, str]], *,
             chunk_tokens: int | None, probe_every: int, raw: bool, batch_size: int | None,
             poll_s: float,
             ) -> dict[str, Any]:
    home = OUT / f"ingest-{name}"
    shutil.rmtree(home, ignore_errors=True)
    settings = Settings(home=home) if batch_size is None else Settings(
        home=home, embed_batch_size=batch_size)
    zk = Zhiku(settings)
    kb_settings: dict[str, Any] = {} if chunk_tokens is None else {
        "chunk_tokens": chunk_tokens, "chunk_overlap": 0}
    zk.create_kb(name, embedder=embedder, **kb_settings)
    zk.embedder(embedder)  # loaded before the clock starts, as in a running service
    fresh = Freshness(zk, name, poll_s)

    def source_items() -> Iterator[SourceItem]:
        for n, (source, data, probe) in enumerate(items):
            if probe_every and n % probe_every == 0:
                fresh.taken(source, probe)
            yield SourceItem(source, data=data)

    rss_reset = reset_peak_rss()
    started = time.perf_counter()
    cpu0 = time.process_time()
    report = zk.ingest_items(name, source_items(), listener=fresh)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu0
    rss = peak_rss_mb()
    fresh.close()
    stats = zk.stats(name)[name]
    out: dict[str, Any] = {
        "embedder": embedder,
        "embed_batch_size": zk.settings.embed_batch_size,
        "documents": stats["documents"],
        "failed": len(report.failed),
        "chunks": stats["chunks"],
        "embedded": stats["embedded"],
        "seconds": round(seconds, 2),
        "pipeline_chunks_per_s": round(stats["chunks"] / seconds, 1),
        "pipeline_docs_per_s": round(stats["documents"] / seconds, 1),
        "process_cpu_seconds": round(cpu, 2),
        "pipeline_chunks_per_cpu_s": round(stats["chunks"] / cpu, 1),
        "peak_rss_mb": round(rss, 1),
        "peak_rss_reset_before": rss_reset,
        "freshness": {
            "probes": len(fresh.latencies) + fresh.missed,
            "missed_within_10s": fresh.missed,
            "from_item_taken": summary_ms(fresh.latencies) if fresh.latencies else None,
            "max_ms_from_item_taken": round(max(fresh.latencies) * 1000, 1)
            if fresh.latencies else None,
            "from_file_done": summary_ms(fresh.after_write) if fresh.after_write else None,
        },
    }
    if raw:
        texts = chunk_texts(zk, name)
        model = zk.embedder(embedder)
        t0 = time.perf_counter()
        c0 = time.process_time()
        embed_texts(model, texts, zk.settings.embed_batch_size)
        raw_s = time.perf_counter() - t0
        raw_cpu = time.process_time() - c0
        out["raw_embedder_cpu_seconds"] = round(raw_cpu, 2)
        out["ratio_pipeline_vs_raw_cpu"] = round(raw_cpu / cpu, 3)
        out["raw_embedder_seconds"] = round(raw_s, 2)
        out["raw_embedder_chunks_per_s"] = round(len(texts) / raw_s, 1)
        out["ratio_pipeline_vs_raw"] = round((stats["chunks"] / seconds) / (len(texts) / raw_s), 3)
    zk.close()
    print(f"[{name}] {out}")
    return out


def news_items(limit: int) -> Iterator[tuple[str, bytes, str]]:
    for n, article in enumerate(news_articles(limit)):
        body = article.split("正文：", 1)[-1]
        yield f"news/{n:06d}.txt", article.encode(), body[:24]


def scifact_items(limit: int | None) -> Iterator[tuple[str, bytes, str]]:
    for n, d in enumerate(scifact_corpus()):
        if limit is not None and n >= limit:
            return
        yield f"{d['_id']}.md", scifact_markdown(d), d["title"][:80] or d["text"][:80]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--parts", default="hashing,news-model,scifact")
    ap.add_argument("--news", type=int, default=10_000, help="articles for the hashing part")
    ap.add_argument("--news-model", type=int, default=1_000,
                    help="articles for the MiniLM news part (model-bound: a subset)")
    ap.add_argument("--scifact-docs", type=int, default=None,
                    help="first N abstracts only (default: all 5,183)")
    ap.add_argument("--probe-every", type=int, default=100)
    ap.add_argument("--probe-poll-ms", type=float, default=20.0,
                    help="how often a probe searches until its document is found: the "
                    "freshness figures' resolution (each search costs the pipeline CPU)")
    ap.add_argument("--batch-size", type=int, default=None, help="default: settings")
    args = ap.parse_args()
    parts = args.parts.split(",")
    result: dict[str, Any] = {"parts": {}}
    if "hashing" in parts:
        result["parts"]["news_hashing"] = run_part(
            "news-hashing", "hashing", news_items(args.news), chunk_tokens=None,
            probe_every=args.probe_every, raw=True, batch_size=args.batch_size,
            poll_s=args.probe_poll_ms / 1000)
        result["parts"]["news_hashing"]["target_chunks_per_s"] = 1000
    if "news-model" in parts:
        result["parts"]["news_minilm"] = run_part(
            "news-minilm", "minilm", news_items(args.news_model), chunk_tokens=None,
            probe_every=max(1, args.probe_every // 10), raw=True, batch_size=args.batch_size,
            poll_s=args.probe_poll_ms / 1000)
    if "scifact" in parts:
        result["parts"]["scifact_minilm"] = run_part(
            "scifact-minilm", "minilm", scifact_items(args.scifact_docs), chunk_tokens=8192,
            probe_every=max(1, args.probe_every // 2), raw=True, batch_size=args.batch_size,
            poll_s=args.probe_poll_ms / 1000)
    name = "ingest_throughput" if len(parts) == 3 else "ingest_throughput_" + "_".join(parts)
    print("wrote", write_result(name, result))


if __name__ == "__main__":
    main()
