"""What a node executor receives and returns."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from zhiku.core.errors import InvalidInput
from zhiku.models.llm.types import CallRecord, CancelToken
from zhiku.workflows.events import EventType
from zhiku.workflows.refs import Outputs, evaluate, render
from zhiku.workflows.schema import ValueType, Workflow
from zhiku.workflows.services import Services


class Variables:
    """The run's variables, shared by its threads (assign nodes write, every node reads)."""

    def __init__(self, initial: Mapping[str, Any],
                 types: Mapping[str, ValueType] | None = None) -> None:
        self._values = dict(initial)
        self._types = dict(types or {})
        self._lock = threading.Lock()

    def snapshot(self) -> Outputs:
        """A copy to read from (unknown names read as None)."""
        with self._lock:
            return Outputs(self._values)

    def set(self, values: Mapping[str, Any]) -> None:
        """Set several variables at once; each must be of its declared type."""
        from zhiku.workflows.validate import conforms

        for name, value in values.items():
            wanted = self._types.get(name, "any")
            if value is not None and not conforms(value, wanted):
                raise InvalidInput(f"variable '{name}' is of type {wanted}, "
                                   f"not {type(value).__name__}")
        with self._lock:
            self._values.update(values)


SubRun = Callable[[Workflow, Mapping[str, Any], str], dict[str, Any]]
"""Runs an iteration body with extra names (item, index) under an event prefix; returns the
body's result."""


@dataclass(slots=True)
class NodeContext:
    """One node's run: the names it may read, the services, and where its events go."""

    names: Mapping[str, Any]
    services: Services
    cancel: CancelToken
    variables: Variables
    emit: Callable[[EventType, dict[str, Any]], None]
    sub_run: SubRun
    calls: list[CallRecord] = field(default_factory=list)

    def render(self, template: str) -> str:
        """A template rendered over this node's names."""
        return render(template, self.names)

    def evaluate(self, expr: str) -> Any:
        """An expression evaluated over this node's names."""
        return evaluate(expr, self.names)


@dataclass(slots=True)
class NodeResult:
    """Outputs, and the handle the run continues by (``out`` unless the node branches)."""

    outputs: dict[str, Any]
    handle: str = "out"
