"""Sentence splitting for Chinese (。！？；) and English (., !, ? before a capital or digit)."""

from __future__ import annotations

import re

_SPLIT_RE = re.compile(
    r"(?<=[。！？；!?;])[”’」』\"')）]*\s*"  # CJK and hard stops, with closing quotes
    r"|(?<=[.])[”’\"')]*\s+(?=[A-Z0-9\"“(\[])"  # English full stop (+ quote), new sentence
    r"|\n\s*\n|\n(?=\s*[-*•\d])"  # blank lines and list starts
)
_ABBREV_RE = re.compile(r"\b(?:e\.g|i\.e|etc|vs|Dr|Mr|Mrs|Ms|Prof|Fig|al|No)\.$")
# A stop inside parentheses ("(b. 20 April 1952)", "(p. 12)") ends no sentence, unless the
# parenthesis has stayed open this long (an unbalanced one must not swallow the text).
MAX_PARENTHESIS = 300


def _inside_parenthesis(piece: str) -> bool:
    return len(piece) <= MAX_PARENTHESIS and (
        piece.count("(") > piece.count(")") or piece.count("（") > piece.count("）"))


def split_sentences(text: str) -> list[str]:
    """Split ``text`` into sentences, keeping their punctuation and dropping empty pieces."""
    pieces: list[str] = []
    start = 0
    for m in _SPLIT_RE.finditer(text):
        end = m.end()
        piece = text[start:end]
        stripped = piece.rstrip()
        if (stripped.endswith(".") and _ABBREV_RE.search(stripped)) or (
                _inside_parenthesis(piece) and not m.group().startswith("\n")):
            continue
        if piece.strip():
            pieces.append(piece.strip())
        start = end
    tail = text[start:]
    if tail.strip():
        pieces.append(tail.strip())
    return pieces
