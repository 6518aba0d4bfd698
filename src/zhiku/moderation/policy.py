"""A workspace's moderation policy: listed words with their action and where they apply, the
reply that replaces blocked text, and an optional moderation endpoint for questions."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Scope = Literal["input", "output", "both"]
MAX_WORDS = 50_000


class WordRule(BaseModel):
    """One listed word (or phrase)."""

    # strict: a policy comes from JSON or YAML as written (0 is not false), like API bodies
    model_config = ConfigDict(extra="forbid", strict=True)

    word: str = Field(min_length=1, max_length=100)
    action: Literal["block", "mask"] = "block"
    scope: Scope = "both"

    @field_validator("word")
    @classmethod
    def _visible(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("a listed word cannot be blank")
        return value


class ModerationPolicy(BaseModel):
    """What is checked, and what happens on a hit."""

    model_config = ConfigDict(extra="forbid", strict=True)

    enabled: bool = True
    words: list[WordRule] = Field(default_factory=list, max_length=MAX_WORDS)
    block_reply: str = Field(
        default="抱歉，这个问题我无法回答。Sorry, I can't help with that.", min_length=1,
        max_length=1000)
    mask_char: str = Field(default="*", min_length=1, max_length=1)
    endpoint: str | None = Field(
        default=None, max_length=200,
        description="provider/model of an OpenAI-compatible /moderations endpoint that checks "
        "each question (a flagged question is blocked)")
    endpoint_failure: Literal["allow", "block"] = Field(
        default="allow", description="what a question gets when the endpoint fails or times out")
    endpoint_timeout_s: float = Field(default=5.0, gt=0, le=60)

    def rules(self, direction: Literal["input", "output"]
              ) -> list[tuple[str, Literal["block", "mask"]]]:
        """(word, action) pairs that apply to ``direction``."""
        return [(r.word, r.action) for r in self.words if r.scope in (direction, "both")]
