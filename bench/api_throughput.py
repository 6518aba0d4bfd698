"""HTTP API throughput: search and chat requests/s and p95 at 8 and 32 concurrent clients
against ``zhiku serve`` on a ≥100k-chunk knowledge base, with the same calls made in-process
(threads calling the ``Zhiku`` facade) as the baseline, in the same run.

Chat uses the extractive answerer (no LLM server): the HTTP path is the API's chat endpoint,
the baseline is ``Zhiku.ask`` with the same answerer.

    .venv/bin/python bench/api_throughput.py            # builds bench/out/api100k on first use
    .venv/bin/python bench/api_throughput.py --reuse --requests 400
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from _common import OUT, ROOT, news_articles, summary_ms, write_result
from zhiku.core.settings import Settings
from zhiku.ingest.events import FileResult
from zhiku.ingest.pipeline import SourceItem
from zhiku.service import Zhiku

HOME = OUT / "api100k"
KB = "news"


class _Counter:
    def __init__(self) -> None:
        self.chunks = 0

    def file_done(self, result: FileResult) -> None:
        self.chunks += result.chunks

    def queued(self, count: int) -> None:
        pass

    def embedded(self, count: int) -> None:
        pass


def build(target_chunks: int) -> dict[str, Any]:
    """The knowledge base, an admin key and an extractive assistant."""
    shutil.rmtree(HOME, ignore_errors=True)
    settings = Settings(home=HOME)
    zk = Zhiku(settings)
    zk.create_kb(KB, embedder="hashing")
    counter = _Counter()

    def items() -> Iterator[SourceItem]:
        for n, article in enumerate(news_articles()):
            if counter.chunks >= target_chunks:
                return
            yield SourceItem(f"news/{n:06d}.txt", data=article.encode())

    started = time.perf_counter()
    report = zk.ingest_items(KB, items(), listener=counter)
    seconds = time.perf_counter() - started
    chunks = zk.stats(KB)[KB]["chunks"]
    zk.close()
    from zhiku.accounts.store import AccountStore
    from zhiku.store.sqlite.db import Database

    db = Database(settings.db_path)
    auth = AccountStore(db)
    ws = auth.workspace_id("default")
    assert ws is not None
    _, key = auth.create_key(ws, name="bench", access="admin", kbs=None, assistants=None,
                             created_by=None)
    db.close()
    (HOME / "bench.json").write_text(json.dumps({"key": key, "articles": len(report.files)}))
    return {"documents": len(report.files), "chunks": chunks, "seconds": round(seconds, 1)}


def queries(skip: int, n: int) -> list[str]:
    """First sentences (≤ 30 characters) of articles that were not ingested."""
    out = []
    for article in news_articles(n, skip=skip):
        body = article.split("正文：", 1)[-1]
        out.append(body.split("。", 1)[0].strip()[:30] or body[:30])
    return out


def in_process(call: Callable[[str], Any], qs: list[str], clients: int, total: int) -> dict:
    """``total`` calls from ``clients`` threads: requests/s and latency."""
    times: list[float] = []
    errors = 0

    def one(i: int) -> None:
        nonlocal errors
        t = time.perf_counter()
        try:
            call(qs[i % len(qs)])
        except Exception:
            errors += 1
        times.append(time.perf_counter() - t)

    for q in qs[:10]:
        call(q)
    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, range(total)))
    wall = time.perf_counter() - started
    return {"rps": round(total / wall, 1), "errors": errors, **summary_ms(times)}


async def _http(url: str, key: str, body: Callable[[str], dict], qs: list[str], clients: int,
                total: int) -> dict:
    headers = {"Authorization": f"Bearer {key}"}
    times: list[float] = []
    errors = 0
    counter = iter(range(total))
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(headers=headers, timeout=120, limits=limits) as client:
        for q in qs[:10]:
            await client.post(url, json=body(q))

        async def worker() -> None:
            nonlocal errors
            for i in counter:
                t = time.perf_counter()
                r = await client.post(url, json=body(qs[i % len(qs)]))
                times.append(time.perf_counter() - t)
                if r.status_code != 200:
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        wall = time.perf_counter() - started
    return {"rps": round(total / wall, 1), "errors": errors, **summary_ms(times)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(port: int, workers: int = 1) -> subprocess.Popen[bytes]:
    env = {**os.environ, "ZHIKU_HOME": str(HOME), "ZHIKU_API_RATE_LIMIT_PER_MINUTE": "0"}
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "zhiku"), "serve", "--port", str(port),
         "--workers", str(workers), "--log-level", "warning"],
        env=env, cwd=ROOT,
    )
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("zhiku serve did not become ready")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reuse", action="store_true", help="Reuse bench/out/api100k.")
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=400, help="Requests per measurement.")
    parser.add_argument("--clients", default="8,32")
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument("--workers", type=int, default=1, help="zhiku serve --workers")
    args = parser.parse_args()
    result: dict[str, Any] = {"embedder": "hashing", "answerer": "extractive (no LLM server)"}
    if not (args.reuse and (HOME / "bench.json").exists()):
        result["build"] = build(args.chunks)
        print("built:", result["build"], flush=True)
    if args.build_only:
        return
    meta = json.loads((HOME / "bench.json").read_text())
    qs = queries(meta["articles"], 300)
    port = _free_port()
    proc = serve(port, args.workers)
    result["workers"] = args.workers
    base = f"http://127.0.0.1:{port}"
    try:
        headers = {"Authorization": f"Bearer {meta['key']}"}
        httpx.post(f"{base}/v1/assistants", headers=headers, timeout=60, json={
            "slug": "news", "config": {"knowledge_bases": [KB], "retrieval": {"top_k": 5}}})
        zk = Zhiku(Settings(home=HOME))
        result["chunks"] = zk.stats(KB)[KB]["chunks"]
        runs: dict[str, Any] = {}
        for clients in [int(c) for c in args.clients.split(",")]:
            for name, call, url, body in (
                ("search", lambda q: zk.search(KB, q, top_k=10), "/v1/search",
                 lambda q: {"query": q, "knowledge_bases": [KB], "top_k": 10}),
                ("chat", lambda q: zk.ask(KB, q, top_k=5), "/v1/assistants/news/chat",
                 lambda q: {"message": q}),
            ):
                inproc = in_process(call, qs, clients, args.requests)
                http = asyncio.run(_http(base + url, meta["key"], body, qs, clients,
                                         args.requests))
                cost = round(1 - http["rps"] / inproc["rps"], 3)
                runs[f"{name}@{clients}"] = {"in_process": inproc, "http": http,
                                             "http_throughput_cost": cost}
                print(name, clients, json.dumps(runs[f"{name}@{clients}"]), flush=True)
        zk.close()
        result["runs"] = runs
        result["target"] = "http_throughput_cost <= 0.15 at 8 clients, no errors"
    finally:
        proc.terminate()
        proc.wait(30)
    path = write_result("api_throughput", result)
    print("wrote", path)


if __name__ == "__main__":
    main()
