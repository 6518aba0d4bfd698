"""Metadata filters, shared by every retriever and backend."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from zhiku.core.jsonbounds import check_json

Scalar = str | int | float | bool | None
# a metadata filter compares scalars (or any of a list of them); objects are refused
MetadataFilter = Annotated[dict[str, Scalar | list[Scalar]], AfterValidator(check_json)]


class SearchFilters(BaseModel):
    """Restrict a search. Every set field must hold (AND); lists mean any-of."""

    model_config = ConfigDict(extra="forbid")

    document_ids: list[int] | None = None
    sources: list[str] | None = None
    tags: list[str] | None = Field(default=None, description="The document has any of these tags.")
    metadata: MetadataFilter | None = Field(
        default=None,
        description="Document metadata key → scalar value (or list of allowed values).",
    )
    formats: list[str] | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None

    def is_empty(self) -> bool:
        """True when no field restricts anything (no tags and no metadata keys restrict
        nothing, unlike an empty list of ids, sources or formats, which matches nothing)."""
        unset = all(
            v is None for k, v in self.model_dump().items() if k not in ("tags", "metadata")
        )
        return unset and not self.tags and not self.metadata
