"""``EventStream``: a run in its own thread read as an iterator, up to the end predicate; the
run's exception reaches the reader; leaving early cancels the run. No database."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from zhiku.core.event_stream import EventStream


class Token:
    """A cancel token: set once the reader leaves early."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def cancel(self) -> None:
        self.event.set()


def test_events_until_the_end_then_the_result() -> None:
    def start(emit: Callable[[str], None], token: Token) -> int:
        for name in ("a", "b", "end"):
            emit(name)
        return 42

    stream = EventStream(start, Token(), lambda e: e == "end")
    assert list(stream) == ["a", "b", "end"] and stream.result == 42
    assert not stream.cancel.event.is_set()


def test_the_runs_exception_is_raised_to_the_reader() -> None:
    def start(emit: Callable[[str], None], token: Token) -> int:
        emit("a")
        raise ValueError("broken")

    seen: list[str] = []
    with pytest.raises(ValueError, match="broken"):
        for event in EventStream(start, Token(), lambda e: e == "end"):
            seen.append(event)
    assert seen == ["a"]


def test_leaving_early_cancels_the_run() -> None:
    def start(emit: Callable[[str], None], token: Token) -> str:
        emit("first")
        token.event.wait(5)
        return "cancelled" if token.event.is_set() else "timed out"

    stream = EventStream(start, Token(), lambda e: False)
    for _ in stream:
        break
    assert stream.result == "cancelled"
