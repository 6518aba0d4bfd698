"""Accounting around any ``ChatModel``: tokens, cost, latency and time to first token per call."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

from zhiku.core.errors import ProviderError
from zhiku.models.llm.types import (
    CallObserver,
    CallRecord,
    CancelToken,
    ChatModel,
    Completion,
    Delta,
    GenerationOptions,
    Message,
    Usage,
    cost_per_million,
)


class MeteredChatModel:
    """Reports one ``CallRecord`` per call (successful or not) to ``observer``.

    Timing is measured here, around the inner model, so it includes retries.
    """

    def __init__(
        self,
        inner: ChatModel,
        observer: CallObserver,
        price_input: float = 0.0,
        price_output: float = 0.0,
    ) -> None:
        self.inner = inner
        self.name = inner.name
        self.context_window = inner.context_window
        self._observer = observer
        self._prices = (price_input, price_output)

    def count_tokens(self, text: str) -> int:
        """The inner model's count."""
        return self.inner.count_tokens(text)

    def cost(self, usage: Usage) -> float:
        """Cost of ``usage`` at this model's per-million prices."""
        return cost_per_million(usage.input_tokens, usage.output_tokens, *self._prices)

    def complete(
        self,
        messages: Sequence[Message],
        options: GenerationOptions | None = None,
        cancel: CancelToken | None = None,
    ) -> Completion:
        """The inner reply, recorded."""
        start = time.perf_counter()
        try:
            result = self.inner.complete(messages, options, cancel)
        except ProviderError as exc:
            self._fail(start, None, exc, stream=False)
            raise
        self._ok(result, start, None, stream=False)
        return result

    def stream(
        self,
        messages: Sequence[Message],
        options: GenerationOptions | None = None,
        cancel: CancelToken | None = None,
    ) -> Iterator[Delta]:
        """The inner stream, recorded when it ends (or fails, or is abandoned)."""
        start = time.perf_counter()
        ttft: float | None = None
        try:
            for delta in self.inner.stream(messages, options, cancel):
                if ttft is None and (delta.text or delta.reasoning):
                    ttft = (time.perf_counter() - start) * 1000
                if delta.done is not None:
                    self._ok(delta.done, start, ttft, stream=True)
                yield delta
        except ProviderError as exc:
            self._fail(start, ttft, exc, stream=True)
            raise

    def _ok(self, result: Completion, start: float, ttft: float | None, stream: bool) -> None:
        self._observer(CallRecord(
            provider=self.name.split("/", 1)[0],
            model=self.name,
            usage=result.usage,
            latency_ms=(time.perf_counter() - start) * 1000,
            ttft_ms=ttft,
            cost=self.cost(result.usage),
            ok=True,
            stream=stream,
        ))

    def _fail(self, start: float, ttft: float | None, exc: ProviderError, stream: bool) -> None:
        self._observer(CallRecord(
            provider=self.name.split("/", 1)[0],
            model=self.name,
            usage=Usage(),
            latency_ms=(time.perf_counter() - start) * 1000,
            ttft_ms=ttft,
            cost=0.0,
            ok=False,
            error=f"{exc.kind}: {exc.message}"[:500],
            stream=stream,
        ))
