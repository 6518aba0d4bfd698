"""What a workflow run reports as it goes: one flat event type, easy to send as SSE lines."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

EventType = Literal[
    "run_started", "node_started", "node_finished", "node_skipped", "node_retry", "node_failed",
    "token", "citations", "run_finished",
]


@dataclass(slots=True)
class WorkflowEvent:
    """One event: its type, the node it concerns (none for run events) and its data (whose
    keys never shadow ``type`` and ``node_id``: a node's type is ``node_type``)."""

    type: EventType
    node_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: ``{"type", "node_id", ...data}``."""
        return {"type": self.type, "node_id": self.node_id, **self.data}

    def sse(self) -> str:
        """The event as one Server-Sent Events message (``event:`` and ``data:`` lines)."""
        body = json.dumps(self.to_dict(), ensure_ascii=False, default=str)
        return f"event: {self.type}\ndata: {body}\n\n"


EventSink = Callable[[WorkflowEvent], None]
"""Receives events; called from the engine's threads, one call at a time."""
