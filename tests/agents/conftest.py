"""Fixtures for the agent tests: a facade that may reach 127.0.0.1 (the test servers), the
small HR knowledge base really ingested, and an agent model on the scripted server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scripted_llm import DOCS
from zhiku.core.settings import Settings
from zhiku.ingest.pipeline import SourceItem
from zhiku.service import Zhiku


@pytest.fixture
def zk(zhiku_home: Path) -> Iterator[Zhiku]:
    with Zhiku(Settings(home=zhiku_home, embedder="hashing",
                        api_url_allowlist=["127.0.0.1"])) as z:
        yield z


@pytest.fixture
def hr(zk: Zhiku) -> Zhiku:
    zk.create_kb("hr")
    report = zk.ingest_items("hr", [SourceItem(n, data=t.encode()) for n, t in DOCS.items()])
    assert not report.failed
    return zk


@pytest.fixture
def model(zk: Zhiku, scripted: Any) -> str:
    """A provider on the scripted server, with prices so costs can be checked."""
    zk.add_provider("scripted", base_url=scripted.url, models=["scripted-model"],
                    context_window=8192, price_input=2.0, price_output=8.0, max_retries=0)
    return "scripted/scripted-model"
