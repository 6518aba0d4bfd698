"""Shared plumbing for commands: opening the service, printing, error → exit code."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console

from zhiku.core.errors import ZhikuError
from zhiku.core.settings import Settings
from zhiku.service import Zhiku

console = Console()
err_console = Console(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def open_zhiku() -> Iterator[Zhiku]:
    """The service on the configured database, closed afterwards."""
    zk = Zhiku(Settings())
    try:
        yield zk
    finally:
        zk.close()


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn Zhiku errors into a one-line message and exit code 1 (2 for bad input)."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except ZhikuError as exc:
            err_console.print(f"[red]error:[/red] {exc.message}", highlight=False)
            raise typer.Exit(2 if 400 <= exc.status < 500 else 1) from None

    return wrapper


def print_json(data: Any) -> None:
    """One JSON document on stdout (UTF-8, not ASCII-escaped)."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
    sys.stdout.flush()
