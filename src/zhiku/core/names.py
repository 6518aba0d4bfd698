"""Names people give things (knowledge bases, assistants, workspaces): printable text only."""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, Field
from pydantic.json_schema import JsonDict

from zhiku.core.errors import InvalidName

# bidirectional embeddings, overrides and isolates: they make a name display as another one
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})
# The same rule as a pattern, so the OpenAPI document tells clients what a name may hold.
NAME_PATTERN = (
    r"^[^\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e"
    r"\u2066-\u2069\ud800-\udfff]*$"
)


def check_name(value: str) -> str:
    """Return ``value`` or raise ``ValueError`` if it holds control or invisible-order
    characters (newlines, tabs, NUL, escape sequences, bidi overrides)."""
    for ch in value:
        if ch in _BIDI or unicodedata.category(ch) in _REFUSED_CATEGORIES:
            raise ValueError(f"names cannot contain control characters (found U+{ord(ch):04X})")
    return value


WORKSPACE_NAME_MAX = 128


def check_workspace_name(value: str) -> str:
    """Return ``value`` or raise ``InvalidName``: the rule every way of creating a workspace
    applies (1-128 characters, not only spaces, no control characters)."""
    if not value.strip() or len(value) > WORKSPACE_NAME_MAX:
        raise InvalidName(
            f"a workspace name is 1-{WORKSPACE_NAME_MAX} characters, not only spaces"
        )
    try:
        return check_name(value)
    except ValueError as exc:
        raise InvalidName(str(exc)) from None


WORKSPACE_NAME_SCHEMA: JsonDict = {
    "minLength": 1, "maxLength": WORKSPACE_NAME_MAX, "pattern": NAME_PATTERN,
}
"""The workspace name rule as JSON Schema, for API documents (the check itself is
``check_workspace_name``)."""

Name = Annotated[
    str, AfterValidator(check_name), Field(json_schema_extra={"pattern": NAME_PATTERN})
]
