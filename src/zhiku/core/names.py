"""Names people give things (knowledge bases, assistants, workspaces): printable text only."""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator

# bidirectional embeddings, overrides and isolates: they make a name display as another one
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs", "Co", "Cn", "Zl", "Zp"})


def check_name(value: str) -> str:
    """Return ``value`` or raise ``ValueError`` if it holds control or invisible-order
    characters (newlines, tabs, NUL, escape sequences, bidi overrides)."""
    for ch in value:
        if ch in _BIDI or unicodedata.category(ch) in _REFUSED_CATEGORIES:
            raise ValueError(f"names cannot contain control characters (found U+{ord(ch):04X})")
    return value


Name = Annotated[str, AfterValidator(check_name)]
