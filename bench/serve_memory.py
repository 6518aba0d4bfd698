"""Memory of ``zhiku serve``: resident set size idle after start, after a first search with the
bundled model, after more searches, and idle after an ingest job (news articles uploaded and
embedded by the server's job threads), with one workspace and one knowledge base.

The knowledge base is this project's README and docs/*.md with MiniLM; an admin key searches
over HTTP. ``--baseline-src DIR`` starts the same server from another checkout's sources
(``PYTHONPATH=DIR``), one server after the other, for a same-run baseline. Each server starts
from its own copy of the home as built, so each ingests the articles (a server on a home that
already holds them would skip them as unchanged). Beside memory: each search's wall time (p50
over the searches after the first) and the ingest job's wall time, from the client.

    .venv/bin/python bench/serve_memory.py
    .venv/bin/python bench/serve_memory.py --baseline-src /tmp/zhiku-main/src --rounds 2
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from _common import OUT, ROOT, news_articles, write_result
from zhiku.core.settings import Settings
from zhiku.ingest.pipeline import SourceItem
from zhiku.service import Zhiku

HOME = OUT / "serve-memory"
TEMPLATE = OUT / "serve-memory-built"
KB = "docs"
QUERIES = ["where does Zhiku keep its data", "how do I back up the database",
           "which embedders are there", "how are share links signed", "what is a workflow node"]


def build() -> str:
    """A home with one knowledge base (MiniLM) and an admin API key, kept in ``TEMPLATE``;
    returns the key."""
    shutil.rmtree(TEMPLATE, ignore_errors=True)
    settings = Settings(home=TEMPLATE)
    with Zhiku(settings) as zk:
        zk.create_kb(KB, embedder="minilm")
        files = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
        zk.ingest_items(KB, [SourceItem(f.name, path=f) for f in files])
    from zhiku.accounts.store import AccountStore
    from zhiku.store.sqlite.db import Database

    db = Database(settings.db_path)
    auth = AccountStore(db)
    ws = auth.workspace_id("default")
    assert ws is not None
    _, key = auth.create_key(ws, name="bench", access="admin", kbs=None, assistants=None,
                             created_by=None)
    db.close()
    return key


def rss_mb(pid: int) -> dict[str, float]:
    """Current and peak resident set size of ``pid`` (VmRSS, VmHWM), in MiB."""
    out: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            out[line.split(":")[0]] = round(int(line.split()[1]) / 1024, 1)
    return {"rss_mb": out["VmRSS"], "peak_mb": out["VmHWM"]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def measure(src: Path, key: str, searches: int, ingest: int) -> dict[str, Any]:
    """Start a server from ``src`` on a fresh copy of the built home, read its memory at each
    stage, stop it."""
    shutil.rmtree(HOME, ignore_errors=True)
    shutil.copytree(TEMPLATE, HOME)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZHIKU_")}
    env.update(ZHIKU_HOME=str(HOME), ZHIKU_API_RATE_LIMIT_PER_MINUTE="0", PYTHONPATH=str(src))
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "zhiku"), "serve", "--port", str(port),
         "--log-level", "warning"], env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {key}"}
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        time.sleep(3.0)  # let start-up work (job threads, first polls) settle
        stages: dict[str, Any] = {"idle after start": rss_mb(proc.pid)}
        seconds: list[float] = []
        for n in range(searches):
            t0 = time.perf_counter()
            r = httpx.post(f"{base}/v1/search", headers=headers, timeout=120,
                           json={"query": QUERIES[n % len(QUERIES)], "knowledge_bases": [KB],
                                 "top_k": 5})
            r.raise_for_status()
            seconds.append(time.perf_counter() - t0)
            if n == 0:
                time.sleep(1.0)
                stages["after a first search"] = rss_mb(proc.pid)
        time.sleep(1.0)
        stages[f"after {searches} searches"] = rss_mb(proc.pid)
        if len(seconds) > 1:
            stages["search p50 ms (after the first)"] = round(
                statistics.median(seconds[1:]) * 1000, 1)
        files = [("files", (f"news-{n:03d}.txt", article.encode(), "text/plain"))
                 for n, article in enumerate(news_articles(ingest))]
        t0 = time.perf_counter()
        job = httpx.post(f"{base}/v1/kbs/{KB}/documents", headers=headers, files=files,
                         timeout=120).json()
        while job["status"] not in ("done", "failed", "dead", "cancelled"):
            time.sleep(0.2)
            job = httpx.get(f"{base}/v1/jobs/{job['id']}", headers=headers, timeout=60).json()
        stages["job"] = {"status": job["status"], "chunks_embedded": job["chunks_embedded"],
                         "seconds": round(time.perf_counter() - t0, 1)}
        time.sleep(5.0)
        stages[f"idle 5 s after ingesting {ingest} news articles (a job)"] = rss_mb(proc.pid)
        return stages
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--searches", type=int, default=50)
    parser.add_argument("--ingest", type=int, default=100,
                        help="news articles uploaded as one ingest job after the searches")
    parser.add_argument("--baseline-src", type=Path, default=None)
    parser.add_argument("--rounds", type=int, default=1,
                        help="servers per side, the order alternating from round to round")
    args = parser.parse_args()
    key = build()
    sides = {"this": ROOT / "src"}
    if args.baseline_src is not None:
        sides["baseline"] = args.baseline_src.resolve()
    result: dict[str, list[dict[str, Any]]] = {name: [] for name in sides}
    for round_ in range(args.rounds):
        order = list(sides.items())
        for name, src in order if round_ % 2 == 0 else reversed(order):
            stages = measure(src, key, args.searches, args.ingest)
            result[name].append(stages)
            print(name, json.dumps(stages, ensure_ascii=False), flush=True)
    write_result("serve_memory", {"searches": args.searches, "ingest": args.ingest,
                                  "results": result})

if __name__ == "__main__":
    main()
