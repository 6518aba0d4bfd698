"""Fixtures for the workflow tests: a facade with URL fetching allowed to 127.0.0.1, a small
HTTP server with slow, flaky and JSON endpoints, and the scripted OpenAI-compatible server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from wf_support import Site

from scripted_llm import DOCS
from zhiku.core.settings import Settings
from zhiku.ingest.pipeline import SourceItem
from zhiku.service import Zhiku
from zhiku.workflows.engine import WorkflowEngine
from zhiku.workflows.services import ZhikuServices


@pytest.fixture
def zk(zhiku_home: Path) -> Iterator[Zhiku]:
    """A facade whose URL guard lets HTTP nodes reach 127.0.0.1 (the test servers)."""
    with Zhiku(Settings(home=zhiku_home, embedder="hashing",
                        api_url_allowlist=["127.0.0.1"])) as z:
        yield z


@pytest.fixture
def hr(zk: Zhiku) -> Zhiku:
    """``zk`` with the small HR knowledge base of the LLM tests, really ingested."""
    zk.create_kb("hr")
    report = zk.ingest_items("hr", [SourceItem(n, data=t.encode()) for n, t in DOCS.items()])
    assert not report.failed
    return zk


@pytest.fixture
def engine(zk: Zhiku) -> WorkflowEngine:
    return WorkflowEngine(ZhikuServices(zk))


@pytest.fixture
def site() -> Iterator[Site]:
    server = Site()
    yield server
    server.stop()


@pytest.fixture
def model(zk: Zhiku, scripted: Any) -> str:
    """A provider on the scripted server, with prices so costs can be checked."""
    zk.add_provider("scripted", base_url=scripted.url, models=["scripted-model"],
                    context_window=4096, price_input=2.0, price_output=8.0, max_retries=0)
    return "scripted/scripted-model"
