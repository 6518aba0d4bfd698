"""Synthetic questions written by a configured model (the workspace's providers)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from zhiku.evals.generate import LLMQuestionGenerator

if TYPE_CHECKING:
    from zhiku.chat.wiring import LLMServices


def completion(services: LLMServices, model_ref: str, temperature: float = 0.7,
               max_tokens: int = 256) -> Callable[[str], str]:
    """Prompt in, text out, with the model ``provider/model`` of this workspace."""
    from zhiku.models.llm.types import GenerationOptions

    model = services.providers.model(model_ref)
    options = GenerationOptions(temperature=temperature, max_tokens=max_tokens)

    def complete(prompt: str) -> str:
        return model.complete([{"role": "user", "content": prompt}], options).text

    return complete


def llm_generator(services: LLMServices, model_ref: str) -> LLMQuestionGenerator:
    """A question generator on the model ``provider/model``."""
    return LLMQuestionGenerator(completion(services, model_ref))
