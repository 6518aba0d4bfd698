"""Check an answer's citations against the documents it was given (pure logic).

Markers ``[n]``, ``[n, m]`` and ``【n】`` pointing at documents that were not given are removed;
an answer left with no valid citation is flagged.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from zhiku.answer.types import Citation
from zhiku.retrieval.types import Hit

MARKER_RE = re.compile(r"\s?[\[【]\s*(\d{1,3}(?:\s*[,，、]\s*\d{1,3})*)\s*[\]】]")
_SPLIT_RE = re.compile(r"\s*[,，、]\s*")


@dataclass(slots=True)
class Verified:
    """The cleaned answer text, its valid citations, and what was removed."""

    text: str
    citations: list[Citation] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)

    @property
    def flagged(self) -> bool:
        """No valid citation is left: the answer may not be grounded."""
        return not self.citations


def verify(text: str, given: Sequence[Hit], keep_markers: bool = True) -> Verified:
    """Keep citations to documents 1..len(given); drop the others from the text."""
    used: dict[int, Citation] = {}
    removed: list[int] = []

    def replace(match: re.Match[str]) -> str:
        numbers = [int(x) for x in _SPLIT_RE.split(match.group(1))]
        valid = [n for n in numbers if 1 <= n <= len(given)]
        removed.extend(n for n in numbers if n not in valid)
        for n in valid:
            if n not in used:
                used[n] = Citation.from_hit(n, given[n - 1])
        if not valid or not keep_markers:
            return ""
        lead = " " if match.group(0)[0].isspace() else ""
        return lead + "".join(f"[{n}]" for n in dict.fromkeys(valid))

    cleaned = MARKER_RE.sub(replace, text).strip()
    return Verified(cleaned, sorted(used.values(), key=lambda c: c.n), removed)


class MarkerFilter:
    """Streaming counterpart of ``verify``: holds back a possible marker until it closes, then
    lets it through only if every number in it is valid. ``cited``: a valid marker has passed
    (the answer will be grounded)."""

    _MAX = 24

    def __init__(self, valid: int, keep_markers: bool = True) -> None:
        self._valid = valid
        self._keep = keep_markers
        self._buf = ""
        self.cited = False

    def feed(self, piece: str) -> str:
        """Text safe to show now."""
        self._buf += piece
        out: list[str] = []
        while self._buf:
            start = min((i for i in (self._buf.find("["), self._buf.find("【")) if i >= 0),
                        default=-1)
            if start < 0:
                out.append(self._buf)
                self._buf = ""
                break
            out.append(self._buf[:start])
            self._buf = self._buf[start:]
            end = min((i for i in (self._buf.find("]"), self._buf.find("】")) if i >= 0),
                      default=-1)
            if end < 0:
                if len(self._buf) > self._MAX:  # not a marker: release it
                    out.append(self._buf[0])
                    self._buf = self._buf[1:]
                    continue
                break
            marker, self._buf = self._buf[: end + 1], self._buf[end + 1 :]
            out.append(self._check(marker))
        return "".join(out)

    def flush(self) -> str:
        """Whatever is still held back."""
        rest, self._buf = self._buf, ""
        return rest

    def _check(self, marker: str) -> str:
        m = MARKER_RE.fullmatch(marker)
        if m is None:
            return marker
        numbers = [int(x) for x in _SPLIT_RE.split(m.group(1))]
        valid = [n for n in numbers if 1 <= n <= self._valid]
        self.cited = self.cited or bool(valid)
        if not self._keep:
            return ""
        return "".join(f"[{n}]" for n in dict.fromkeys(valid))
