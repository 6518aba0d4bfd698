"""The settings a knowledge base may carry, and the one check of their names and values.

A knowledge base stores only the settings it was given; what it lacks falls back to the
server's settings (``chunk_tokens``, ``chunk_overlap``) or to off (``parent_child``,
``graph``, no reranker). ``language`` (``zh``, ``en``, ``auto``) is the documents' language,
which chooses the embedder of a new knowledge base (see ``zhiku.kb_language``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from zhiku.core.errors import InvalidInput

KB_SETTING_KEYS = frozenset(
    {"chunk_tokens", "chunk_overlap", "parent_child", "graph", "reranker", "rerank_top_n",
     "language"}
)
LANGUAGES = ("zh", "en", "auto")


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "chunk_tokens": (lambda v: _whole(v) and v >= 1, "chunk_tokens is a whole number from 1"),
    "chunk_overlap": (lambda v: _whole(v) and v >= 0, "chunk_overlap is a whole number from 0"),
    "parent_child": (lambda v: isinstance(v, bool), "parent_child is true or false"),
    "graph": (lambda v: isinstance(v, bool), "graph is true or false"),
    "reranker": (lambda v: isinstance(v, str) and 0 < len(v) <= 200,
                 "reranker is a provider/model reference"),
    "rerank_top_n": (lambda v: _whole(v) and 1 <= v <= 200,
                     "rerank_top_n is a whole number from 1 to 200"),
    "language": (lambda v: v in LANGUAGES, "language is zh, en or auto"),
}


def check_kb_settings(settings: Mapping[str, Any], *, unset: bool = False) -> dict[str, Any]:
    """``settings`` as a dict once every name is known and every value valid, else
    ``InvalidInput``. With ``unset``, None is allowed and means "back to the default"."""
    unknown = set(settings) - KB_SETTING_KEYS
    if unknown:
        raise InvalidInput(f"unknown knowledge base settings: {sorted(unknown)}")
    for key, value in settings.items():
        if value is None and unset:
            continue
        valid, rule = _RULES[key]
        if not valid(value):
            raise InvalidInput(rule)
    return dict(settings)


def parse_setting(key: str, text: str) -> Any:
    """A setting's value from text (``chunk_tokens=512``, ``graph=true``, ``reranker=``):
    numbers and booleans by the setting's kind, an empty value unsets it (None)."""
    if key not in KB_SETTING_KEYS:
        raise InvalidInput(f"unknown knowledge base setting '{key}'; one of "
                           f"{', '.join(sorted(KB_SETTING_KEYS))}")
    if text == "":
        return None
    if key in ("parent_child", "graph"):
        lowered = text.lower()
        if lowered in ("true", "yes", "on", "1"):
            return True
        if lowered in ("false", "no", "off", "0"):
            return False
        raise InvalidInput(f"{key} is true or false")
    if key in ("reranker", "language"):
        return text
    try:
        return int(text)
    except ValueError:
        raise InvalidInput(f"{key} is a whole number") from None
