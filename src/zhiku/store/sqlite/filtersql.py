"""Translate ``SearchFilters`` into a SQL condition over the ``documents`` alias ``d``."""

from __future__ import annotations

from typing import Any

from zhiku.store.common.filterparts import check_key, created_range
from zhiku.store.filters import SearchFilters


def _placeholders(values: list[Any]) -> str:
    return ",".join("?" * len(values))


def filter_sql(filters: SearchFilters | None) -> tuple[str, list[Any]]:
    """Return ``(condition, params)``; the condition is ``1`` when nothing is filtered."""
    if filters is None or filters.is_empty():
        return "1", []
    parts: list[str] = []
    params: list[Any] = []
    if filters.document_ids is not None:
        parts.append(
            f"d.id IN ({_placeholders(filters.document_ids)})" if filters.document_ids else "0"
        )
        params += filters.document_ids
    if filters.sources is not None:
        parts.append(f"d.source IN ({_placeholders(filters.sources)})" if filters.sources else "0")
        params += filters.sources
    if filters.formats is not None:
        parts.append(f"d.format IN ({_placeholders(filters.formats)})" if filters.formats else "0")
        params += filters.formats
    if filters.tags:
        parts.append(
            "EXISTS (SELECT 1 FROM json_each(d.metadata, '$.tags') t "
            f"WHERE t.value IN ({_placeholders(filters.tags)}))"
        )
        params += filters.tags
    for key, wanted in (filters.metadata or {}).items():
        check_key(key)
        values = wanted if isinstance(wanted, list) else [wanted]
        parts.append(f"json_extract(d.metadata, ?) IN ({_placeholders(values)})")
        params += [f'$."{key}"', *values]
    dates, date_params = created_range(filters)
    if not parts and not dates:
        return "1", []
    return " AND ".join([*parts, *dates]), [*params, *date_params]
