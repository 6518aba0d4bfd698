"""Rewrite a follow-up ("and for managers?") into a standalone query before retrieval."""

from __future__ import annotations

from collections.abc import Sequence

from zhiku.answer.prompts import rewrite_messages
from zhiku.models.llm.types import CancelToken, ChatModel, GenerationOptions, Message
from zhiku.text.lang import detect_language

MAX_TURNS = 6


def rewrite_question(
    model: ChatModel,
    history: Sequence[Message],
    question: str,
    cancel: CancelToken | None = None,
) -> str:
    """A standalone query; the question itself when there is no history (no model call).

    A reply that is empty or far longer than a query is ignored in favour of the question
    joined to the previous user turn, which still carries the missing context to retrieval.
    """
    if not history:
        return question
    recent = list(history)[-MAX_TURNS:]
    lang = detect_language(question)
    reply = model.complete(
        rewrite_messages(recent, question, lang),
        GenerationOptions(temperature=0.0, max_tokens=96),
        cancel,
    ).text
    line = next((ln for ln in reply.splitlines() if ln.strip()), "")
    line = line.strip().strip("\"'“”「」`").removeprefix("→").strip()
    for prefix in ("Query:", "query:", "Standalone query:", "问题：", "问题:"):
        line = line.removeprefix(prefix).strip()
    if line and len(line) <= 4 * len(question) + 200:
        return line
    previous = next((m["content"] for m in reversed(recent) if m["role"] == "user"), "")
    return f"{previous} {question}".strip()
