"""One way for tests to wait: poll a predicate until it holds or a deadline passes."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    predicate: Callable[[], T],
    timeout: float = 30.0,
    what: str | Callable[[], str] = "the condition",
    *,
    interval: float = 0.05,
) -> T:
    """Call ``predicate`` every ``interval`` seconds until it returns something truthy, and
    return that. Past ``timeout`` seconds, fail with ``what`` (a string, or a callable giving
    details such as a process's output at that moment) and the last value seen."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            said = what() if callable(what) else what
            raise AssertionError(
                f"timed out after {timeout:g}s waiting for {said} (last value: {value!r})"
            )
        time.sleep(interval)
