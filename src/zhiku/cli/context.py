"""Shared plumbing for commands: opening the service, printing, error → exit code."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from functools import wraps
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import typer

from zhiku.cli.output import console, err_console, say
from zhiku.core.errors import ZhikuError
from zhiku.core.settings import Settings

if TYPE_CHECKING:
    from zhiku.service import Zhiku

__all__ = ["console", "err_console", "handle_errors", "open_zhiku", "print_json", "say"]

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def open_zhiku(preload: Sequence[str] = (), workspace: str | None = None) -> Iterator[Zhiku]:
    """A workspace's facade on the command's runtime (one database for the whole command),
    closed afterwards: ``workspace``, or the settings' (``ZHIKU_WORKSPACE``, ``default``
    unless set), which must exist unless it is ``default``. The embedders of the knowledge
    bases named in ``preload`` start loading before the service's own modules are imported,
    so a one-shot command pays for the model and the imports side by side."""
    from zhiku.runtime import Runtime

    with Runtime(Settings()) as runtime:
        chosen = workspace or runtime.settings.workspace
        # ``default`` is made on first use; another name must exist (a typo makes no workspace)
        ws = runtime.store.workspace_id(chosen, create=chosen == "default")
        for name in preload:
            with suppress(ZhikuError):  # an unknown knowledge base is reported by the command
                kb = runtime.store.get_kb(ws, name)
                runtime.embedders.preload(kb.embedder)
        yield runtime.workspace(ws)


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn Zhiku errors into a one-line message and exit code 1 (2 for bad input)."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except ZhikuError as exc:
            say(("error:", "red"), " ", exc.message, err=True)
            raise typer.Exit(2 if 400 <= exc.status < 500 else 1) from None

    return wrapper


def print_json(data: Any) -> None:
    """One JSON document on stdout (UTF-8, not ASCII-escaped)."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
    sys.stdout.flush()
