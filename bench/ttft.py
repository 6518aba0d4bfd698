"""Time to first token: what Zhiku adds over a direct call to the same local llama.cpp server.

Side by side, interleaved, in one run: the same messages (the prompt Zhiku builds from the same
retrieved hits) are sent (a) directly with httpx and (b) through Zhiku's answer path (budgeting,
prompt assembly, the OpenAI-compatible client, reasoning/citation filters, accounting written to
SQLite). Retrieval is excluded from (b) and timed separately over a knowledge base of
``--chunks`` chunks (Chinese news, hashing embedder). The server keeps the shared prompt prefix
in its KV cache, so both paths pay the same small model cost and the difference is Zhiku's.

    .venv/bin/python bench/ttft.py --chunks 100000 --rounds 40
    .venv/bin/python bench/ttft.py --reuse          # reuse bench/out/ttft

``--workflow``: a workflow run's HTTP time to first token over a direct model call instead
(``bench/ttft_workflow.py``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import subprocess
import sys
import time
from typing import Any

import httpx

from _common import OUT, news_articles, percentile, summary_ms, write_result
from zhiku.answer.llm import LLMAnswerer, LLMAnswerOptions
from zhiku.chat.accounting import CallContext
from zhiku.core.settings import Settings
from zhiku.ingest.pipeline import SourceItem
from zhiku.models.llm.local import bundled_gguf
from zhiku.models.llm.metered import MeteredChatModel
from zhiku.service import Zhiku

QUESTIONS = ["经济增长的主要动力是什么？", "今年的粮食产量如何？", "新能源汽车销量增长了多少？"]


def build(zk: Zhiku, chunks: int) -> None:
    """Ingest news articles until the knowledge base holds ``chunks`` chunks."""
    zk.create_kb("news", embedder="hashing", chunk_tokens=128, chunk_overlap=0)
    done = 0
    batch: list[SourceItem] = []
    for i, text in enumerate(news_articles()):
        batch.append(SourceItem(f"news/{i}.txt", data=text.encode()))
        if len(batch) == 500:
            zk.ingest_items("news", batch)
            batch.clear()
            done = zk.stats("news")["news"]["chunks"]
            print(f"  {done} chunks", file=sys.stderr)
            if done >= chunks:
                return
    if batch:
        zk.ingest_items("news", batch)


def start_server(port: int) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(bundled_gguf()),
           "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048", "--n_threads", "2",
           "--model_alias", "smollm2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=2).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("llama.cpp server did not start")


def direct_ttft(client: httpx.Client, payload: dict[str, Any]) -> float:
    """Seconds to the first content delta, reading the whole stream."""
    start = time.perf_counter()
    first = None
    with client.stream("POST", "/chat/completions", json=payload) as response:
        for line in response.iter_lines():
            if first is None and line.startswith("data: {"):
                delta = json.loads(line[6:])["choices"]
                if delta and delta[0]["delta"].get("content"):
                    first = time.perf_counter() - start
    assert first is not None
    return first


def zhiku_ttft(answerer: LLMAnswerer, question: str, hits: list[Any]) -> float:
    start = time.perf_counter()
    first = None
    for event in answerer.stream(question, hits):
        if first is None and event.kind == "token" and event.text:
            first = time.perf_counter() - start
    assert first is not None
    return first


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--chunks", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=40)
    ap.add_argument("--reuse", action="store_true")
    ap.add_argument("--build-only", action="store_true", help="only build bench/out/ttft")
    ap.add_argument("--workflow", action="store_true",
                    help="a workflow run's HTTP TTFT over a direct model call")
    args = ap.parse_args()
    if args.workflow:
        import ttft_workflow

        ttft_workflow.main(args.rounds)
        return
    home = OUT / "ttft"
    if not args.reuse and home.exists():
        shutil.rmtree(home)
    zk = Zhiku(Settings(home=home, embedder="hashing"))
    if not args.reuse or "news" not in [k.name for k in zk.list_kbs()]:
        t0 = time.perf_counter()
        build(zk, args.chunks)
        print(f"built in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    chunks = zk.stats("news")["news"]["chunks"]
    if args.build_only:
        print(f"{chunks} chunks in {home}", file=sys.stderr)
        return

    # retrieval, reported separately
    probes = [a[:30] for a in news_articles(limit=200, skip=150_000)] or QUESTIONS * 50
    for q in probes[:10]:
        zk.search("news", q, top_k=5)
    times = []
    for q in probes:
        t = time.perf_counter()
        zk.search("news", q, top_k=5)
        times.append(time.perf_counter() - t)
    retrieval = summary_ms(times)

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = start_server(port)
    try:
        url = f"http://127.0.0.1:{port}/v1"
        zk.add_provider("bench", preset="llamacpp", base_url=url, models=["smollm2"],
                        context_window=2048, tokenize_path="/extras/tokenize", replace=True)
        model = MeteredChatModel(zk.llm.providers.model("bench/smollm2"),
                                 zk.llm.calls.observer(CallContext("bench")))
        opts = LLMAnswerOptions(max_tokens=16, min_relevance=0.0, temperature=0.0)
        answerer = LLMAnswerer(model, opts)
        question = QUESTIONS[0]
        hits = zk.search("news", question, top_k=5)
        plan = answerer._plan(question, hits, [])
        assert plan is not None
        payload = {"model": "smollm2", "messages": plan.messages, "temperature": 0.0,
                   "max_tokens": 16, "stream": True, "stream_options": {"include_usage": True}}
        client = httpx.Client(base_url=url, timeout=120)
        for _ in range(3):  # warm the KV cache and both connection pools
            direct_ttft(client, payload)
            zhiku_ttft(answerer, question, hits)
        direct, via, diff = [], [], []
        for r in range(args.rounds):
            if r % 2:
                d, z = direct_ttft(client, payload), zhiku_ttft(answerer, question, hits)
            else:
                z, d = zhiku_ttft(answerer, question, hits), direct_ttft(client, payload)
            direct.append(d)
            via.append(z)
            diff.append(z - d)
    finally:
        server.terminate()
        server.wait(10)
    overhead = [x * 1000 for x in diff]
    result = {
        "chunks": chunks,
        "prompt_tokens_estimated": sum(model.count_tokens(m["content"]) for m in plan.messages),
        "direct_ttft": summary_ms(direct),
        "zhiku_ttft": summary_ms(via),
        "overhead_ms": {"p50": round(percentile(overhead, 50), 2),
                        "p95": round(percentile(overhead, 95), 2)},
        "retrieval": retrieval,
        "target": "overhead p50 <= 30 ms",
    }
    path = write_result("ttft", result)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    print(f"written to {path}", file=sys.stderr)
    zk.close()


if __name__ == "__main__":
    main()
