"""Shared by the CLI tests (a module of its own, imported by a unique name)."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import Result


def last_json(result: Result) -> Any:
    """The JSON document on the last line a command printed to stdout."""
    return json.loads(result.stdout.strip().splitlines()[-1])
