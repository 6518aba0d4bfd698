"""What a run leaves: its status and outputs, and one record per node."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

RunStatus = Literal["running", "succeeded", "failed", "timeout", "cancelled"]
NodeStatus = Literal["succeeded", "failed", "skipped"]


@dataclass(slots=True)
class NodeRecord:
    """What one node did: the values it read, its outputs, timing, tokens, cost, error."""

    node_id: str
    type: str
    status: NodeStatus
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    latency_ms: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    attempts: int = 0
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@dataclass(slots=True)
class RunResult:
    """A finished run: status, outputs, error, and each node's record in finishing order."""

    status: RunStatus
    outputs: dict[str, Any]
    error: str | None
    nodes: list[NodeRecord]
    latency_ms: float = 0.0

    @property
    def input_tokens(self) -> int:
        """Input tokens of every model call of the run."""
        return sum(n.input_tokens for n in self.nodes)

    @property
    def output_tokens(self) -> int:
        """Output tokens of every model call of the run."""
        return sum(n.output_tokens for n in self.nodes)

    @property
    def cost(self) -> float:
        """Cost of every model call of the run."""
        return sum(n.cost for n in self.nodes)

    def node(self, node_id: str) -> NodeRecord:
        """The record of ``node_id``."""
        return next(n for n in self.nodes if n.node_id == node_id)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"status": self.status, "outputs": self.outputs, "error": self.error,
                "latency_ms": self.latency_ms, "input_tokens": self.input_tokens,
                "output_tokens": self.output_tokens, "cost": self.cost,
                "nodes": [n.to_dict() for n in self.nodes]}
