"""Word lists matched in one pass (Aho-Corasick), robust to width, case, script and spacing.

Text is matched in a normalised form: NFKC (full-width letters and digits become ASCII),
case-folded, with spaces, zero-width characters and punctuation between characters skipped, so
``敏 感``, ``ＢＡＤ`` and ``b.a.d`` match ``敏感`` and ``bad``. Each word is also added in its
Traditional and Simplified forms. Matches are reported as spans of the original text.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

Action = Literal["block", "mask"]
_SKIP_CATEGORIES = ("Zs", "Zl", "Zp", "Cf", "Cc", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po")


@dataclass(frozen=True, slots=True)
class Match:
    """A listed word found at ``text[start:end]``."""

    start: int
    end: int
    word: str
    action: Action


@cache
def _script_forms() -> tuple[Any, Any]:
    import opencc

    return opencc.OpenCC("t2s"), opencc.OpenCC("s2t")


def _fold(ch: str) -> str:
    return unicodedata.normalize("NFKC", ch).casefold()


def normalise(text: str) -> tuple[str, list[int]]:
    """The matching form of ``text`` and, for each of its characters, the index in ``text``."""
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        if unicodedata.category(ch) in _SKIP_CATEGORIES:
            continue
        for piece in _fold(ch):
            out.append(piece)
            where.append(i)
    return "".join(out), where


def _variants(word: str) -> set[str]:
    t2s, s2t = _script_forms()
    folded = normalise(word)[0]
    return {v for v in (folded, normalise(t2s.convert(word))[0],
                        normalise(s2t.convert(word))[0]) if v}


def _latin(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _inside_a_word(text: str, start: int, end: int) -> bool:
    """Whether a match of Latin letters or digits runs on into a longer word (``bad`` in
    ``cab address`` or ``badge``): such words only match whole. CJK needs no boundary."""
    before = start > 0 and _latin(text[start]) and _latin(text[start - 1])
    after = end < len(text) and _latin(text[end - 1]) and _latin(text[end])
    return before or after


class WordList:
    """Listed words with their action; ``find`` reports every occurrence in a text."""

    def __init__(self, words: Iterable[tuple[str, Action]]) -> None:
        import ahocorasick

        self._automaton = ahocorasick.Automaton()
        self.longest = 0
        for word, action in words:
            for form in _variants(word):
                current = self._automaton.get(form, None)
                # a word listed twice keeps its stricter action
                if current is None or (current[1] == "mask" and action == "block"):
                    self._automaton.add_word(form, (word, action, len(form)))
                self.longest = max(self.longest, len(form))
        self.empty = len(self._automaton) == 0
        if not self.empty:
            self._automaton.make_automaton()

    def find(self, text: str) -> list[Match]:
        """Every occurrence, leftmost first; overlapping occurrences are all reported."""
        if self.empty or not text:
            return []
        folded, where = normalise(text)
        found: list[Match] = []
        for end, (word, action, length) in self._automaton.iter(folded):
            first, last = where[end - length + 1], where[end] + 1
            if _inside_a_word(text, first, last):
                continue
            found.append(Match(first, last, word, action))
        return sorted(found, key=lambda m: (m.start, m.end))


def mask(text: str, matches: Iterable[Match], char: str = "*") -> str:
    """``text`` with every matched span's visible characters replaced by ``char``."""
    chars = list(text)
    for m in matches:
        for i in range(m.start, m.end):
            if unicodedata.category(chars[i]) not in _SKIP_CATEGORIES:
                chars[i] = char
    return "".join(chars)
