"""Translate ``SearchFilters`` into a PostgreSQL condition over the ``documents`` alias ``d``.

The semantics are those of ``store/sqlite/filtersql.py``. Tags and metadata values become JSONB
containment tests (``@>``), which the GIN index on ``documents.metadata`` answers.
"""

from __future__ import annotations

import json
from typing import Any

from zhiku.store.common.filterparts import check_key, created_range
from zhiku.store.filters import SearchFilters


def filter_sql(filters: SearchFilters | None) -> tuple[str, list[Any]]:
    """Return ``(condition, params)`` with ``?`` placeholders; ``TRUE`` when nothing is
    filtered."""
    if filters is None or filters.is_empty():
        return "TRUE", []
    parts: list[str] = []
    params: list[Any] = []
    for column, values in (
        ("d.id", filters.document_ids),
        ("d.source", filters.sources),
        ("d.format", filters.formats),
    ):
        if values is None:
            continue
        if not values:
            parts.append("FALSE")
            continue
        cast = "bigint[]" if column == "d.id" else "text[]"
        parts.append(f"{column} = ANY(?::{cast})")
        params.append(list(values))
    if filters.tags:
        # a list of tags holding any of them, or (like SQLite's json_each) a single tag
        wanted = [{"tags": [t]} for t in filters.tags] + [{"tags": t} for t in filters.tags]
        parts.append("d.metadata @> ANY(?::jsonb[])")
        params.append([json.dumps(w, ensure_ascii=False) for w in wanted])
    for key, value in (filters.metadata or {}).items():
        check_key(key)
        # JSON null never matches, as SQL NULL never equals anything on SQLite
        allowed = [v for v in (value if isinstance(value, list) else [value]) if v is not None]
        if not allowed:
            parts.append("FALSE")
            continue
        parts.append("d.metadata @> ANY(?::jsonb[])")
        params.append([json.dumps({key: v}, ensure_ascii=False) for v in allowed])
    dates, date_params = created_range(filters)
    if not parts and not dates:
        return "TRUE", []
    return " AND ".join([*parts, *dates]), [*params, *date_params]
