"""A run as an iterator of its events: the run goes on in a thread of its own, hands each event
to a queue, and the reader iterates until an event the end predicate accepts."""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Generic, Protocol, TypeVar

E = TypeVar("E")
R = TypeVar("R")
C = TypeVar("C", bound="Cancellable")


class Cancellable(Protocol):
    """Something a reader can ask to stop (a model call's cancel token)."""

    def cancel(self) -> None:
        """Ask the run to stop."""
        ...


class EventStream(Generic[E, R, C]):
    """Iterate for events until ``is_end(event)``; ``result`` is then set. An exception of the
    run is raised to the reader; leaving early cancels the run (and waits for its thread).

    :param start: runs the work, handing events to its first argument; ``cancel`` is its second.
    :param cancel: the token the run watches.
    :param is_end: whether an event is the run's last.
    """

    def __init__(self, start: Callable[[Callable[[E], None], C], R], cancel: C,
                 is_end: Callable[[E], bool], name: str = "zhiku-run") -> None:
        self.cancel = cancel
        self.result: R | None = None
        self._start = start
        self._is_end = is_end
        self._name = name

    def __iter__(self) -> Iterator[E]:
        events: queue.Queue[E | BaseException] = queue.Queue()

        def work() -> None:
            try:
                self.result = self._start(events.put, self.cancel)
            except BaseException as exc:  # handed to the reader, who re-raises it
                events.put(exc)

        # the caller's context (its reader and audit actor) goes with the work
        thread = threading.Thread(target=contextvars.copy_context().run, args=(work,),
                                  name=self._name, daemon=True)
        thread.start()
        try:
            while True:
                item = events.get()
                if isinstance(item, BaseException):
                    raise item
                yield item
                if self._is_end(item):
                    break
        finally:
            if thread.is_alive():
                self.cancel.cancel()
            thread.join()
