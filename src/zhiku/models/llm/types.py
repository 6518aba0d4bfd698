"""What chat models take and return, and the ``ChatModel`` protocol every backend implements."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NotRequired, Protocol, TypedDict

Role = Literal["system", "user", "assistant", "tool"]


class Message(TypedDict):
    """One chat message in the OpenAI wire shape. An assistant message that calls tools carries
    ``tool_calls`` (wire shape); a ``tool`` message answers one call by ``tool_call_id``."""

    role: Role
    content: str
    tool_calls: NotRequired[list[dict[str, Any]]]
    tool_call_id: NotRequired[str]
    name: NotRequired[str]


@dataclass(slots=True)
class ToolCall:
    """One tool call a model asked for. ``arguments`` is the decoded JSON object; when the
    model sent arguments that are not a JSON object, ``arguments`` is empty and ``error`` says
    why (a value to report back to the model, not an exception)."""

    id: str
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    raw_arguments: str = ""
    error: str | None = None

    def wire(self) -> dict[str, Any]:
        """The call as an assistant message's ``tool_calls`` entry."""
        return {"id": self.id, "type": "function",
                "function": {"name": self.name, "arguments": self.raw_arguments}}



def cost_per_million(
    input_tokens: int, output_tokens: int, price_input: float, price_output: float
) -> float:
    """Cost of a call from prices per million input and output tokens."""
    return (input_tokens * price_input + output_tokens * price_output) / 1_000_000

@dataclass(slots=True)
class Usage:
    """Token counts as the provider reported them (or estimated when it did not)."""

    input_tokens: int = 0
    output_tokens: int = 0
    estimated: bool = False


@dataclass(slots=True)
class GenerationOptions:
    """Sampling and limits of one call."""

    temperature: float = 0.2
    max_tokens: int = 512
    stop: list[str] = field(default_factory=list)
    tools: list[dict[str, Any]] | None = None  # OpenAI ``tools`` (function specs)
    tool_choice: str | dict[str, Any] | None = None  # "auto", "none", "required" or a function
    parallel_tool_calls: bool | None = None


class CancelToken:
    """Set by any thread to stop a call; checked between stream events and before retries."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._callbacks: list[Callable[[], object]] = []
        self._lock = threading.Lock()

    def cancel(self) -> None:
        """Ask the call to stop (and close its open response, interrupting a blocked read)."""
        self._event.set()
        with self._lock:
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()

    def on_cancel(self, callback: Callable[[], object]) -> Callable[[], None]:
        """Run ``callback`` on cancellation; returns a function that unregisters it."""
        with self._lock:
            self._callbacks.append(callback)

        def remove() -> None:
            with self._lock:
                if callback in self._callbacks:
                    self._callbacks.remove(callback)

        return remove

    @property
    def cancelled(self) -> bool:
        """Whether ``cancel()`` was called."""
        return self._event.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; True when cancelled meanwhile."""
        return self._event.wait(seconds)


@dataclass(slots=True)
class CallRecord:
    """Accounting for one model call, handed to the ``CallObserver``."""

    provider: str
    model: str
    usage: Usage
    latency_ms: float
    ttft_ms: float | None
    cost: float
    ok: bool
    error: str | None = None
    stream: bool = False
    attempts: int = 1


CallObserver = Callable[[CallRecord], None]


@dataclass(slots=True)
class Completion:
    """A whole reply: the answer text, the reasoning kept apart, usage and timing."""

    text: str
    reasoning: str = ""
    model: str = ""
    finish_reason: str | None = None
    usage: Usage = field(default_factory=Usage)
    latency_ms: float = 0.0
    ttft_ms: float | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)


@dataclass(slots=True)
class Delta:
    """One streamed piece: answer text, reasoning text, or the final completion (``done``)."""

    text: str = ""
    reasoning: str = ""
    done: Completion | None = None


class ChatModel(Protocol):
    """A chat model. ``stream`` yields deltas and ends with one whose ``done`` is set."""

    name: str
    context_window: int

    def complete(
        self,
        messages: Sequence[Message],
        options: GenerationOptions | None = None,
        cancel: CancelToken | None = None,
    ) -> Completion:
        """The whole reply."""
        ...

    def stream(
        self,
        messages: Sequence[Message],
        options: GenerationOptions | None = None,
        cancel: CancelToken | None = None,
    ) -> Iterator[Delta]:
        """The reply piece by piece."""
        ...

    def count_tokens(self, text: str) -> int:
        """Tokens ``text`` takes in this model's prompt (exact, or a safe over-estimate)."""
        ...


def collect(deltas: Iterator[Delta]) -> Completion:
    """Drain a stream into its final completion."""
    for delta in deltas:
        if delta.done is not None:
            return delta.done
    from zhiku.models.llm.errors import BrokenStream

    raise BrokenStream("the stream ended without a final completion")
