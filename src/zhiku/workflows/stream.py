"""A run as an iterator of events: the run goes on in a thread of its own."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator

from zhiku.models.llm.types import CancelToken
from zhiku.workflows.events import EventSink, WorkflowEvent
from zhiku.workflows.results import RunResult


class RunStream:
    """Iterate for events until ``run_finished``; ``result`` is then set. Leaving early
    cancels the run."""

    def __init__(self, start: Callable[[EventSink, CancelToken], RunResult],
                 cancel: CancelToken | None = None) -> None:
        self.cancel = cancel or CancelToken()
        self.result: RunResult | None = None
        self._start = start

    def __iter__(self) -> Iterator[WorkflowEvent]:
        events: queue.Queue[WorkflowEvent | BaseException] = queue.Queue()

        def work() -> None:
            try:
                self.result = self._start(events.put, self.cancel)
            except BaseException as exc:  # handed to the reader, who re-raises it
                events.put(exc)

        thread = threading.Thread(target=work, name="zhiku-workflow", daemon=True)
        thread.start()
        try:
            while True:
                item = events.get()
                if isinstance(item, BaseException):
                    raise item
                yield item
                if item.type == "run_finished" and item.node_id is None:
                    break
        finally:
            if thread.is_alive():
                self.cancel.cancel()
            thread.join()
