"""Trim a conversation's history to a token budget, newest turns first."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from zhiku.models.llm.types import Message


def trim_history(
    history: Sequence[Message], budget: int, count: Callable[[str], int]
) -> list[Message]:
    """The most recent messages whose tokens fit ``budget``, oldest first.

    Never starts with an assistant message (a reply without its question misleads the model).
    """
    kept: list[Message] = []
    used = 0
    for msg in reversed(history):
        cost = count(msg["content"])
        if used + cost > budget:
            break
        kept.append(msg)
        used += cost
    kept.reverse()
    while kept and kept[0]["role"] == "assistant":
        kept.pop(0)
    return kept
