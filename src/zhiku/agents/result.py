"""What an agent run gives back: the answer, its citations, why it stopped, and its cost."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from zhiku.answer.types import Citation

StopReason = Literal["answered", "step_limit", "token_budget", "cancelled", "model_error"]


@dataclass(slots=True)
class ToolRecord:
    """One tool call of the run."""

    step: int
    id: str
    name: str
    arguments: dict[str, Any]
    ok: bool
    result: Any
    latency_ms: float


@dataclass(slots=True)
class AgentResult:
    """A finished run. ``answer`` is empty unless the model answered (``stop_reason``
    ``answered``); ``error`` says what stopped any other run."""

    answer: str
    stop_reason: StopReason
    steps: int
    citations: list[Citation] = field(default_factory=list)
    tool_calls: list[ToolRecord] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    latency_ms: float = 0.0
    error: str | None = None
    run_id: int | None = None  # the recorded run (runs of stored agents are recorded)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)
