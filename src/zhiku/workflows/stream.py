"""A workflow run as an iterator of events: the run goes on in a thread of its own."""

from __future__ import annotations

from collections.abc import Callable

from zhiku.core.event_stream import EventStream
from zhiku.models.llm.types import CancelToken
from zhiku.workflows.events import EventSink, WorkflowEvent
from zhiku.workflows.results import RunResult


def _ends(event: WorkflowEvent) -> bool:
    return event.type == "run_finished" and event.node_id is None


class RunStream(EventStream[WorkflowEvent, RunResult, CancelToken]):
    """Iterate for events until ``run_finished``; ``result`` is then set. Leaving early
    cancels the run."""

    def __init__(self, start: Callable[[EventSink, CancelToken], RunResult],
                 cancel: CancelToken | None = None) -> None:
        super().__init__(start, cancel or CancelToken(), _ends, "zhiku-workflow")
