"""Fixtures of the evaluation tests: a small real BEIR slice of SciFact, a CLI runner."""

from __future__ import annotations

from pathlib import Path

import pytest
from evalsdata import make_beir_slice
from typer.testing import CliRunner


@pytest.fixture
def beir_slice(tmp_path: Path) -> Path:
    """A 12-query SciFact slice in BEIR format."""
    return make_beir_slice(tmp_path / "scifact-slice")


@pytest.fixture
def runner() -> CliRunner:
    """A CLI runner (state goes to the test's ZHIKU_HOME)."""
    return CliRunner()
