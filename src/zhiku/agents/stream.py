"""An agent run as an iterator of events: the run goes on in a thread of its own."""

from __future__ import annotations

from collections.abc import Callable

from zhiku.agents.events import AgentEvent, AgentSink
from zhiku.agents.result import AgentResult
from zhiku.core.event_stream import EventStream
from zhiku.models.llm.types import CancelToken


def _ends(event: AgentEvent) -> bool:
    return event.type == "stop"


class AgentEvents(EventStream[AgentEvent, AgentResult, CancelToken]):
    """Iterate for a run's events until ``stop``; ``result`` is then set. Leaving early
    cancels the run."""

    def __init__(self, start: Callable[[AgentSink, CancelToken], AgentResult],
                 cancel: CancelToken | None) -> None:
        super().__init__(start, cancel or CancelToken(), _ends, "zhiku-agent")
