"""A model that tries a list of models in order: the first that answers wins."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from zhiku.core.errors import ProviderError
from zhiku.models.llm import errors as e
from zhiku.models.llm.types import (
    CancelToken,
    ChatModel,
    Completion,
    Delta,
    GenerationOptions,
    Message,
)

# Failures another model may not have: outages, rate limits, broken replies, a missing model,
# a bad key for that provider, a smaller window. Cancellation is never "fallen back" from.
_FALL_THROUGH = (
    e.ProviderRateLimited, e.ProviderUnavailable, e.BrokenStream, e.MalformedResponse,
    e.UnknownModel, e.AuthenticationFailed, e.ContextOverflow,
)


class FallbackChatModel:
    """``models[0]``, then each fallback when the previous one fails before answering.

    A stream falls back only while it has yielded nothing; after the first delta a failure is
    raised, so a reader never sees two answers glued together.
    """

    def __init__(self, models: Sequence[ChatModel]) -> None:
        if not models:
            raise ValueError("at least one model")
        self.models = list(models)
        self.name = self.models[0].name
        self.context_window = min(m.context_window for m in self.models)

    def count_tokens(self, text: str) -> int:
        """The largest count of any model (the prompt must fit each of them)."""
        return max(m.count_tokens(text) for m in self.models)

    def complete(
        self,
        messages: Sequence[Message],
        options: GenerationOptions | None = None,
        cancel: CancelToken | None = None,
    ) -> Completion:
        """The first model's reply that succeeds."""
        failures: list[str] = []
        for model in self.models:
            try:
                return model.complete(messages, options, cancel)
            except _FALL_THROUGH as exc:
                failures.append(f"{model.name}: {exc.message}")
                last = exc
        raise _exhausted(failures, last)

    def stream(
        self,
        messages: Sequence[Message],
        options: GenerationOptions | None = None,
        cancel: CancelToken | None = None,
    ) -> Iterator[Delta]:
        """The first model's stream that starts."""
        failures: list[str] = []
        for model in self.models:
            started = False
            try:
                for delta in model.stream(messages, options, cancel):
                    started = True
                    yield delta
                return
            except _FALL_THROUGH as exc:
                if started:
                    raise
                failures.append(f"{model.name}: {exc.message}")
                last = exc
        raise _exhausted(failures, last)


def _exhausted(failures: list[str], last: ProviderError) -> ProviderError:
    if len(failures) == 1:
        return last
    err = type(last)("every model failed: " + "; ".join(failures))
    err.details["failures"] = failures
    return err
