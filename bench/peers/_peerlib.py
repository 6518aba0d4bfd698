"""What every side of bench/peers shares: the inputs, the shared hashing embedder, the timing.

Imported by the Zhiku side (the project's virtual environment) and by the peer adapters (each in
its own virtual environment), so it needs the standard library and numpy only. The inputs are
written once by ``run.py`` under ``bench/out/peers/inputs``:

    scifact_docs.jsonl        {"id", "text"}: the text Zhiku indexes and embeds for each abstract
    scifact_doc_vectors.npy   MiniLM vectors of those texts (Zhiku's bundled model), row per doc
    scifact_queries.jsonl     {"id", "text"}: the test claims
    scifact_query_vectors.npy MiniLM vectors of the claims, row per query
    news.jsonl                {"id", "text"}: Chinese news articles for the ingestion part
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
OUT = ROOT / "bench" / "out" / "peers"
INPUTS = OUT / "inputs"

TOP_K = 10  # hits per query, as nDCG@10 reads them
CANDIDATES = 50  # per retriever before fusion (Zhiku's default `candidates`)
WARMUP = 20  # untimed queries before the timed ones
HASH_DIM = 256
CHUNK_TOKENS = 256  # Zhiku's default chunk size, and the peers' splitters' size on news
CHUNK_OVERLAP = 32


def read_jsonl(path: Path) -> list[dict[str, str]]:
    """Rows of a JSON-lines file."""
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def scifact() -> tuple[list[dict[str, str]], np.ndarray, list[dict[str, str]], np.ndarray]:
    """Documents, their vectors, queries, their vectors."""
    return (
        read_jsonl(INPUTS / "scifact_docs.jsonl"),
        np.load(INPUTS / "scifact_doc_vectors.npy"),
        read_jsonl(INPUTS / "scifact_queries.jsonl"),
        np.load(INPUTS / "scifact_query_vectors.npy"),
    )


def news() -> list[dict[str, str]]:
    """The Chinese news articles of the ingestion part."""
    return read_jsonl(INPUTS / "news.jsonl")


def _bigrams(text: str) -> Iterator[str]:
    compact = "".join(text.split())
    return (compact[i : i + 2] for i in range(len(compact) - 1))


def hash_vectors(texts: Sequence[str]) -> np.ndarray:
    """The shared stand-in embedder of the ingestion part: character bigrams hashed (crc32)
    into HASH_DIM buckets, L2-normalised. Every side embeds its own chunks with it, so the
    ingestion times compare the pipelines around one and the same cheap model."""
    out = np.zeros((len(texts), HASH_DIM), dtype=np.float32)
    for row, text in enumerate(texts):
        feats = [zlib.crc32(g.encode()) % HASH_DIM for g in _bigrams(text)]
        if feats:
            out[row] = np.bincount(feats, minlength=HASH_DIM)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return out / norms


class Timer:
    """Wall seconds of the calls it wraps, summed (the embedding share of an ingestion)."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def wrap(self, fn: Callable[[Sequence[str]], np.ndarray]) -> Callable[
            [Sequence[str]], np.ndarray]:
        def timed(texts: Sequence[str]) -> np.ndarray:
            start = time.perf_counter()
            try:
                return fn(texts)
            finally:
                self.seconds += time.perf_counter() - start

        return timed


def reference_seconds() -> float:
    """A fixed pure-Python loop (~1 ms idle), timed between queries: the same interpreter
    runs it in every virtual environment, so its p50 shows how loaded the cores were while
    each side was measured."""
    start = time.perf_counter()
    total = 0
    for i in range(20_000):
        total += i * i
    return time.perf_counter() - start


def percentile(values: Sequence[float], p: float) -> float:
    """Percentile with linear interpolation (numpy's default)."""
    xs = sorted(values)
    if not xs:
        return float("nan")
    pos = (len(xs) - 1) * p / 100
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    """p50/p95/mean in milliseconds."""
    ms = [s * 1000 for s in seconds]
    return {"n": len(ms), "p50_ms": round(percentile(ms, 50), 3),
            "p95_ms": round(percentile(ms, 95), 3), "mean_ms": round(statistics.fmean(ms), 3)}


def time_queries(search: Callable[[int], list[str]], count: int) -> dict[str, Any]:
    """Run ``search(i)`` for every query index: WARMUP untimed ones first, then each query
    once, timed, with the reference loop between queries. Returns the ranked document ids per
    query index and the timings."""
    for i in range(min(WARMUP, count)):
        search(i)
    ranked: list[list[str]] = []
    times: list[float] = []
    reference: list[float] = []
    load_before = os.getloadavg()[0]
    for i in range(count):
        reference.append(reference_seconds())
        start = time.perf_counter()
        ids = search(i)
        times.append(time.perf_counter() - start)
        ranked.append(ids[:TOP_K])
    return {"ranked": ranked, "latency": summary_ms(times),
            "reference": summary_ms(reference),
            "load_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)]}


def arguments(description: str) -> argparse.Namespace:
    """``--out FILE`` (the result JSON) and ``--parts``."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--parts", default="scifact,news")
    return ap.parse_args()


def write(path: Path, payload: dict[str, Any]) -> None:
    """Write a side's result."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, ensure_ascii=False) + "\n", encoding="utf-8")
