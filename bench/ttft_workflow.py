"""Time to first token of a workflow run over HTTP: what Zhiku adds over a direct model call.

One model server answers both paths: the scripted OpenAI-compatible server of the tests
(tests/llm/llm_scripted_server.py, every reply streamed in small pieces, no model cost), on
127.0.0.1. Side by side, interleaved, in one run:

(a) direct: ``POST /v1/chat/completions`` (stream) to the model server, timed to the first
    content delta;
(b) ``POST /v1/apps/{slug}/run`` (stream) to ``zhiku serve`` (its own process, SQLite), a
    published workflow start → llm → answer, timed to the first ``token`` event: the request,
    auth, the run recorded, the engine, the model call through the metered client, SSE;
(c) the same workflow through the OpenAI-compatible ``/v1/chat/completions`` (``model`` = its
    slug), timed to the first content chunk.

Overhead = (b or c) − (a) per round. Target: p50 ≤ 30 ms.

    .venv/bin/python bench/ttft.py --workflow --rounds 100
"""

from __future__ import annotations

import importlib.util
import json
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from _common import percentile, summary_ms, write_result
from zhiku.accounts.bootstrap import bootstrap
from zhiku.core.settings import Settings
from zhiku.service import Zhiku
from zhiku.store.db import open_database

ROOT = Path(__file__).resolve().parents[1]
FLOW = {
    "nodes": [
        {"id": "start", "type": "start", "inputs": [{"name": "query"}]},
        {"id": "llm", "type": "llm", "model": "scripted/m", "prompt": "{{ start.query }}",
         "max_tokens": 32},
        {"id": "answer", "type": "answer", "text": "{{ llm.text }}"},
    ],
    "edges": [{"source": "start", "target": "llm"}, {"source": "llm", "target": "answer"}],
}
REPLY = "Paid annual leave is fifteen working days a year for every employee."


def scripted_server() -> Any:
    """The tests' scripted model server, answering ``REPLY`` to every request."""
    path = ROOT / "tests" / "llm" / "llm_scripted_server.py"
    spec = importlib.util.spec_from_file_location("llm_scripted_server", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["llm_scripted_server"] = module
    spec.loader.exec_module(module)
    server = module.ScriptedServer()
    server.default = lambda request: module.Script(text=REPLY)
    return server.start()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def first_token(client: httpx.Client, url: str, body: dict[str, Any], marker: str,
                headers: dict[str, str] | None = None) -> float:
    """Seconds from sending to the first line holding ``marker``, reading the whole stream."""
    start = time.perf_counter()
    first = None
    with client.stream("POST", url, json=body, headers=headers) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if first is None and marker in line:
                first = time.perf_counter() - start
    assert first is not None, f"no {marker!r} in the stream of {url}"
    return first


def prepare(home: Path, model_url: str) -> str:
    """A workspace with the model provider and the published workflow ``chat``; its API key."""
    settings = Settings(home=home, embedder="hashing")
    db = open_database(settings)
    try:
        made = bootstrap(db, "bench@example.com", "bench-password-1", "bench", key_name="bench")
    finally:
        db.close()
    with Zhiku(settings, workspace="bench") as zk:
        zk.add_provider("scripted", base_url=model_url, models=["m"], max_retries=0,
                        context_window=4096)
        zk.workflows.create("Chat", FLOW, slug="chat")
        zk.workflows.publish("chat")
    return made.key


def serve(home: Path, port: int) -> subprocess.Popen[bytes]:
    """``zhiku serve`` on ``port``, once it answers."""
    env = {"ZHIKU_HOME": str(home), "ZHIKU_EMBEDDER": "hashing",
           "PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from zhiku.cli.main import run; run()", "serve",
         "--port", str(port), "--log-level", "warning"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("zhiku serve did not start")


def main(rounds: int) -> None:
    model = scripted_server()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        key = prepare(home, model.url)
        port = free_port()
        proc = serve(home, port)
        try:
            auth = {"Authorization": f"Bearer {key}"}
            zhiku = f"http://127.0.0.1:{port}"
            ask = {"model": "m", "stream": True,
                   "messages": [{"role": "user", "content": "How much annual leave?"}]}
            run = {"query": "How much annual leave?", "stream": True}
            openai = {**ask, "model": "chat"}
            client = httpx.Client(timeout=60)

            def direct() -> float:
                return first_token(client, f"{model.url}/chat/completions", ask, '"content"')

            def via_apps() -> float:
                return first_token(client, f"{zhiku}/v1/apps/chat/run", run, "event: token",
                                   auth)

            def via_openai() -> float:
                return first_token(client, f"{zhiku}/v1/chat/completions", openai,
                                   '"content": "P', auth)

            for _ in range(5):  # warm both servers and the connection pools
                direct(), via_apps(), via_openai()
            times: dict[str, list[float]] = {"direct": [], "apps": [], "openai": []}
            paths = [("direct", direct), ("apps", via_apps), ("openai", via_openai)]
            for r in range(rounds):
                for name, call in paths[r % 3:] + paths[:r % 3]:  # rotate the order
                    times[name].append(call())
        finally:
            proc.terminate()
            proc.wait(10)
            model.stop()

    def overhead(name: str) -> dict[str, float]:
        diffs = [(v - d) * 1000 for v, d in zip(times[name], times["direct"], strict=True)]
        return {"p50": round(percentile(diffs, 50), 2), "p95": round(percentile(diffs, 95), 2)}

    direct_p50 = percentile(times["direct"], 50)
    result = {
        "rounds": rounds,
        "direct_ttft": summary_ms(times["direct"]),
        "apps_run_ttft": summary_ms(times["apps"]),
        "openai_ttft": summary_ms(times["openai"]),
        "apps_run_overhead_ms": overhead("apps"),
        "openai_overhead_ms": overhead("openai"),
        "apps_run_ratio_p50": round(percentile(times["apps"], 50) / direct_p50, 2),
        "openai_ratio_p50": round(percentile(times["openai"], 50) / direct_p50, 2),
        "target": "overhead p50 <= 30 ms",
    }
    path = write_result("ttft_workflow", result)
    print(json.dumps(result, indent=2))
    print(f"written to {path}", file=sys.stderr)
