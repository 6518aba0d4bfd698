"""The parts of a ``SearchFilters`` condition that read the same on every backend."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from zhiku.core.errors import InvalidInput
from zhiku.store.filters import SearchFilters

_KEY_RE = re.compile(r"^[\w.\-]{1,64}$")


def check_key(key: str) -> None:
    """``InvalidInput`` unless ``key`` is a metadata key filters may name."""
    if not _KEY_RE.match(key):
        raise InvalidInput(f"invalid metadata key {key!r}")


def created_range(filters: SearchFilters) -> tuple[list[str], list[Any]]:
    """``(conditions, params)`` bounding ``d.created_at``."""
    parts: list[str] = []
    params: list[Any] = []
    if filters.created_after is not None:
        parts.append("d.created_at >= ?")
        params.append(_iso(filters.created_after))
    if filters.created_before is not None:
        parts.append("d.created_at < ?")
        params.append(_iso(filters.created_before))
    return parts, params


def _iso(value: datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S")
