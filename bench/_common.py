"""Shared helpers for the benchmarks in bench/ (data loading, metrics, machine info, RSS).

Every script writes ``bench/results/<name>.json`` and keeps its databases under ``bench/out/``
(git-ignored). Nothing is downloaded; data comes from ``../shared/data``.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from zhiku.evals.metrics.retrieval import ndcg

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
OUT = ROOT / "bench" / "out"
RESULTS = ROOT / "bench" / "results"

sys.path.insert(0, str(ROOT / "src"))


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = 0.0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gb": mem_gb,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "note": "2 cores shared with other agents: absolute timings are noisy, compare ratios",
    }


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (VmHWM), in MiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak_rss() -> bool:
    """Reset VmHWM (Linux ≥ 4.0: write 5 to /proc/self/clear_refs); True when it worked."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def write_result(name: str, payload: dict[str, Any]) -> Path:
    """Write bench/results/<name>.json with the command line and machine."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {
        "benchmark": name,
        "command": ".venv/bin/python "
        + " ".join(["bench/" + Path(sys.argv[0]).name, *sys.argv[1:]]),
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": machine(),
        **payload,
    }
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    return path


# -- metrics --------------------------------------------------------------------------------
def ndcg_at_k(ranked: Sequence[str], qrels: Mapping[str, int], k: int = 10) -> float:
    """nDCG@k exactly as the product's evaluation computes it (pytrec_eval convention), so
    ``zhiku eval beir`` and these benchmarks cannot disagree."""
    return ndcg(ranked, qrels, k)


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
    """p50/p95/p99/mean in milliseconds."""
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 3),
        "p95_ms": round(percentile(ms, 95), 3),
        "p99_ms": round(percentile(ms, 99), 3),
        "mean_ms": round(statistics.fmean(ms), 3),
    }


# -- data -----------------------------------------------------------------------------------
def scifact_corpus() -> Iterator[dict[str, str]]:
    """SciFact abstracts: ``_id``, ``title``, ``text`` (streamed)."""
    with gzip.open(DATA / "scifact" / "corpus.jsonl.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def scifact_markdown(doc: Mapping[str, str]) -> bytes:
    """One abstract as a markdown document: the title as a heading, then the text."""
    title = doc["title"].strip().replace("\n", " ")
    text = doc["text"].strip()
    return (f"# {title}\n\n{text}\n" if title else f"{text}\n").encode()


def scifact_queries() -> dict[str, str]:
    """Query id → text."""
    out: dict[str, str] = {}
    with open(DATA / "scifact" / "queries.jsonl", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                q = json.loads(line)
                out[q["_id"]] = q["text"]
    return out


def scifact_qrels(split: str) -> dict[str, dict[str, int]]:
    """Query id → {corpus id: relevance} for ``split`` (test or train)."""
    out: dict[str, dict[str, int]] = {}
    with open(DATA / "scifact" / "qrels" / f"{split}.tsv", encoding="utf-8") as fh:
        next(fh)
        for line in fh:
            parts = line.strip().split("\t")
            if len(parts) == 3:
                out.setdefault(parts[0], {})[parts[1]] = int(parts[2])
    return out


def news_articles(limit: int | None = None, skip: int = 0) -> Iterator[str]:
    """Chinese news articles from crud_news, streamed one at a time in a fixed file order."""
    files = sorted((DATA / "crud_news").glob("*.gz"))
    seen = 0
    for path in files:
        with gzip.open(path, "rt", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                line = line.strip()
                if not line:
                    continue
                seen += 1
                if seen <= skip:
                    continue
                yield line
                if limit is not None and seen - skip >= limit:
                    return
