"""Bounds on free-form JSON that callers may store (metadata, eval items, filters).

``BoundedJson`` refuses objects nested deeper than ``MAX_DEPTH`` or larger than ``MAX_BYTES``
once serialized, so nothing stored can later break the serializer that renders it.
``StoredJson`` is for output models: whatever was stored before these bounds existed is cut at
``MAX_READ_DEPTH`` (deeper values become null) instead of failing the whole response.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator

MAX_DEPTH = 16
MAX_BYTES = 64 * 1024
MAX_READ_DEPTH = 64


def depth_over(value: Any, limit: int) -> bool:
    """Whether ``value`` nests objects/arrays more than ``limit`` levels (no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def check_json(value: Any) -> Any:
    """Return ``value`` or raise ``ValueError`` when it is too deep or too large."""
    if depth_over(value, MAX_DEPTH):
        raise ValueError(f"JSON nested deeper than {MAX_DEPTH} levels is not accepted")
    size = len(json.dumps(value, ensure_ascii=False, default=str).encode())
    if size > MAX_BYTES:
        raise ValueError(f"JSON over {MAX_BYTES:,} bytes is not accepted ({size:,} bytes)")
    return value


def clamp_json(value: Any, limit: int = MAX_READ_DEPTH) -> Any:
    """A copy of ``value`` whose objects/arrays deeper than ``limit`` levels are null."""
    if not depth_over(value, limit):
        return value
    return _clamp(value, limit)


def _clamp(value: Any, left: int) -> Any:
    if not isinstance(value, dict | list | tuple):
        return value
    if left <= 0:
        return None
    if isinstance(value, dict):
        return {k: _clamp(v, left - 1) for k, v in value.items()}
    return [_clamp(v, left - 1) for v in value]


BoundedJson = Annotated[dict[str, Any], AfterValidator(check_json)]
StoredJson = Annotated[dict[str, Any], BeforeValidator(clamp_json)]
