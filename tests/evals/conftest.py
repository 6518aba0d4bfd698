"""Fixtures of the evaluation tests: a small real BEIR slice of SciFact, a CLI runner, the
scripted OpenAI-compatible server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from evalsdata import make_beir_slice
from typer.testing import CliRunner

from scripted_llm import running_scripted


@pytest.fixture
def beir_slice(tmp_path: Path) -> Path:
    """A 12-query SciFact slice in BEIR format."""
    return make_beir_slice(tmp_path / "scifact-slice")


@pytest.fixture
def runner() -> CliRunner:
    """A CLI runner (state goes to the test's ZHIKU_HOME)."""
    return CliRunner()


@pytest.fixture
def server() -> Iterator[Any]:
    """A scripted OpenAI-compatible server on 127.0.0.1 (tests/llm/llm_scripted_server.py)."""
    with running_scripted() as srv:
        yield srv
