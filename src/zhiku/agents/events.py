"""What an agent run reports as it goes: one flat event type, easy to send as SSE lines."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

AgentEventType = Literal[
    "run_started", "step", "token", "tool_call", "tool_result", "answer", "citations", "stop",
]


@dataclass(slots=True)
class AgentEvent:
    """One event: its type and data."""

    type: AgentEventType
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: ``{"type", ...data}``."""
        return {"type": self.type, **self.data}

    def sse(self) -> str:
        """The event as one Server-Sent Events message."""
        body = json.dumps(self.to_dict(), ensure_ascii=False, default=str)
        return f"event: {self.type}\ndata: {body}\n\n"


AgentSink = Callable[[AgentEvent], None]
"""Receives events, one call at a time."""
