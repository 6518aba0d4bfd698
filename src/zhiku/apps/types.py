"""An assistant's configuration and its stored record."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.json_schema import JsonDict

from zhiku.answer.types import UngroundedPolicy
from zhiku.store.filters import SearchFilters

_SLUG_RE = re.compile(r"[^a-z0-9]+")
EXTRACTIVE = "extractive"
"""The answerer used when an assistant has no model: the best cited sentences, no LLM."""


class RetrievalConfig(BaseModel):
    """How an assistant searches its knowledge bases."""

    model_config = ConfigDict(extra="forbid")

    top_k: int = Field(default=8, ge=1, le=200)
    fusion: Literal["rrf", "weighted"] = "rrf"
    min_relevance: float = Field(default=0.3, ge=0.0, le=1.0)
    filters: SearchFilters | None = None
    reranker: str | None = Field(
        default=None, max_length=200,
        description="provider/model of a reranker (kind rerank); none: the knowledge "
        "base's reranker setting, if any",
    )
    rerank_top_n: int | None = Field(default=None, ge=1, le=200)


# The schema's statement of ``_fallbacks_need_a_model``: without a model (null, "" or
# "extractive"), fallback_models must be empty.
_FALLBACKS_NEED_A_MODEL: JsonDict = {
    "if": {"properties": {"model": {"anyOf": [
        {"type": "null"}, {"type": "string", "pattern": r"^\s*(extractive)?\s*$"}]}}},
    "then": {"properties": {"fallback_models": {"maxItems": 0}}},
}


class AssistantConfig(BaseModel):
    """Everything that shapes an assistant's answers; frozen into each published version."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_FALLBACKS_NEED_A_MODEL)

    knowledge_bases: list[str] = Field(min_length=1)
    model: str | None = Field(
        default=None,
        description="provider/model, e.g. deepseek/deepseek-chat; none (or 'extractive'): "
        "answer with the extractive answerer, no LLM needed",
    )
    fallback_models: list[str] = Field(default_factory=list)
    system_prompt: str | None = Field(
        default=None, description="Template; {name}, {refusal} and {language} are filled in."
    )
    retrieval: RetrievalConfig = Field(default_factory=RetrievalConfig)
    temperature: float = Field(default=0.2, ge=0.0, le=2.0)
    max_tokens: int = Field(default=512, ge=16, le=32768)
    refusal_message: str | None = None
    citation_style: Literal["inline", "hidden"] = "inline"
    rewrite_followups: bool = True
    on_ungrounded: UngroundedPolicy = Field(
        default="warn",
        description="What a model answer without a valid citation becomes: 'warn' (kept, "
        "marked grounded: false), 'extractive' (replaced by the extractive answer over the "
        "same passages) or 'refuse' (replaced by the refusal)",
    )

    @field_validator("model", mode="before")
    @classmethod
    def _no_model(cls, value: object) -> object:
        if isinstance(value, str) and value.strip() in ("", EXTRACTIVE):
            return None
        return value

    @model_validator(mode="after")
    def _fallbacks_need_a_model(self) -> AssistantConfig:
        if self.model is None and self.fallback_models:
            raise ValueError("fallback_models need a model")
        return self

    @property
    def extractive(self) -> bool:
        """No model configured: answers come from the extractive answerer."""
        return self.model is None


@dataclass(slots=True)
class Assistant:
    """An assistant: its editable draft and, once published, its current version."""

    id: int
    slug: str
    name: str
    draft: AssistantConfig
    published_version: int | None
    published: AssistantConfig | None
    created_at: str = ""
    updated_at: str = ""

    @property
    def live(self) -> AssistantConfig:
        """What chat uses: the published version, or the draft before any publication."""
        return self.published or self.draft

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "id": self.id, "slug": self.slug, "name": self.name,
            "published_version": self.published_version,
            "draft": self.draft.model_dump(mode="json"),
            "published": self.published.model_dump(mode="json") if self.published else None,
            "created_at": self.created_at, "updated_at": self.updated_at,
        }


def slugify(name: str) -> str:
    """A URL-safe slug (ASCII); non-ASCII names get ``app-<hash>``."""
    slug = _SLUG_RE.sub("-", name.lower()).strip("-")
    if slug:
        return slug[:64]
    import hashlib

    return "app-" + hashlib.sha1(name.encode()).hexdigest()[:8]
