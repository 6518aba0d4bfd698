"""Fixtures for the CLI tests: ``cli``, the ``zhiku`` command run in-process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from zhiku.cli.main import create_app


@pytest.fixture
def cli(zhiku_home: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``cli(*args, code=0, input=None)``: run ``zhiku ARGS`` on the test's home (wide, no
    colour), assert its exit code and return the result."""
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("NO_COLOR", "1")
    runner = CliRunner()
    app = create_app()

    def invoke(*args: str, code: int = 0, input: str | None = None) -> Result:
        result = runner.invoke(app, list(args), input=input)
        assert result.exit_code == code, (args, result.output)
        return result

    return invoke
