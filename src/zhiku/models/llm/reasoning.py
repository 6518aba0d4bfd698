"""Keep a reasoning model's thinking apart from its answer: ``<think>…</think>`` blocks, streamed
or whole (DeepSeek-R1 style ``reasoning_content`` fields arrive separately and need no parsing)."""

from __future__ import annotations

OPEN, CLOSE = "<think>", "</think>"


class ThinkSplitter:
    """Feed text pieces in order; get back ``(answer, reasoning)`` for each, tags removed.

    Holds back a tail that could be the start of a tag split across pieces.
    """

    def __init__(self) -> None:
        self._buf = ""
        self._inside = False
        self._seen_text = False

    def feed(self, piece: str) -> tuple[str, str]:
        """Split one streamed piece."""
        self._buf += piece
        answer: list[str] = []
        reasoning: list[str] = []
        while self._buf:
            tag = CLOSE if self._inside else OPEN
            idx = self._buf.find(tag)
            if idx >= 0:
                (reasoning if self._inside else answer).append(self._buf[:idx])
                self._buf = self._buf[idx + len(tag) :]
                self._inside = not self._inside
                continue
            keep = _partial_suffix(self._buf, tag)
            out, self._buf = self._buf[: len(self._buf) - keep], self._buf[len(self._buf) - keep :]
            (reasoning if self._inside else answer).append(out)
            break
        text = "".join(answer)
        if not self._seen_text:  # drop the blank lines a model puts after </think>
            text = text.lstrip()
            self._seen_text = bool(text)
        return text, "".join(reasoning)

    def flush(self) -> tuple[str, str]:
        """The held-back tail at the end of the stream."""
        rest, self._buf = self._buf, ""
        return ("", rest) if self._inside else (rest if self._seen_text else rest.lstrip(), "")


def split_reasoning(text: str) -> tuple[str, str]:
    """``(answer, reasoning)`` of a whole reply."""
    splitter = ThinkSplitter()
    a1, r1 = splitter.feed(text)
    a2, r2 = splitter.flush()
    return (a1 + a2).strip(), (r1 + r2).strip()


def _partial_suffix(text: str, tag: str) -> int:
    """Length of the longest suffix of ``text`` that is a proper prefix of ``tag``."""
    for n in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:n]):
            return n
    return 0
