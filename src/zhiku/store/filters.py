"""Metadata filters, shared by every retriever and backend."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class SearchFilters(BaseModel):
    """Restrict a search. Every set field must hold (AND); lists mean any-of."""

    model_config = ConfigDict(extra="forbid")

    document_ids: list[int] | None = None
    sources: list[str] | None = None
    tags: list[str] | None = Field(default=None, description="The document has any of these tags.")
    metadata: dict[str, Any] | None = Field(
        default=None, description="Document metadata key → value (or list of allowed values)."
    )
    formats: list[str] | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None

    def is_empty(self) -> bool:
        """True when no field restricts anything."""
        return all(v is None for v in self.model_dump().values())
