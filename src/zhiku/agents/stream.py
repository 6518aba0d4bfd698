"""An agent run as an iterator of events: the run goes on in a thread of its own."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator

from zhiku.agents.events import AgentEvent, AgentSink
from zhiku.agents.result import AgentResult
from zhiku.models.llm.types import CancelToken


class AgentEvents:
    """Iterate for a run's events until ``stop``; ``result`` is then set. Leaving early
    cancels the run."""

    def __init__(self, start: Callable[[AgentSink, CancelToken], AgentResult],
                 cancel: CancelToken | None) -> None:
        self.cancel = cancel or CancelToken()
        self.result: AgentResult | None = None
        self._start = start

    def __iter__(self) -> Iterator[AgentEvent]:
        events: queue.Queue[AgentEvent | BaseException] = queue.Queue()

        def work() -> None:
            try:
                self.result = self._start(events.put, self.cancel)
            except BaseException as exc:  # handed to the reader, who re-raises it
                events.put(exc)

        thread = threading.Thread(target=work, name="zhiku-agent", daemon=True)
        thread.start()
        try:
            while True:
                item = events.get()
                if isinstance(item, BaseException):
                    raise item
                yield item
                if item.type == "stop":
                    break
        finally:
            if thread.is_alive():
                self.cancel.cancel()
            thread.join()
