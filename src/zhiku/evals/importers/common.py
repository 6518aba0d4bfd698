"""Coercions shared by the importers (lenient about shapes, strict about meaning)."""

from __future__ import annotations

from typing import Any

from zhiku.core.errors import InvalidInput


def graded(value: Any, where: str) -> dict[str, int]:
    """Expected documents as {key: grade}: from a dict, a list of keys, or one key."""
    if value in (None, "", [], {}):
        return {}
    if isinstance(value, dict):
        try:
            return {str(k): int(v) for k, v in value.items()}
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"{where}: relevance grades must be integers") from exc
    if isinstance(value, str):
        return {value: 1}
    if isinstance(value, list):
        return {str(k): 1 for k in value}
    raise InvalidInput(f"{where}: expected a list or an object of expected items")


def graded_chunks(value: Any, where: str) -> dict[int, int]:
    """Expected chunk ids as {id: grade}."""
    try:
        return {int(k): v for k, v in graded(value, where).items()}
    except ValueError as exc:
        raise InvalidInput(f"{where}: chunk ids must be integers") from exc


def text_list(value: Any) -> list[str]:
    """A list of strings from a list or a single string."""
    if value in (None, ""):
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(v) for v in value if str(v).strip()]
    return [str(value)]


def boolean(value: Any, default: bool = True) -> bool:
    """A boolean from JSON or CSV text (true/false, yes/no, 1/0)."""
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "y"):
        return True
    if text in ("0", "false", "no", "n"):
        return False
    raise InvalidInput(f"not a boolean: {value!r}")
