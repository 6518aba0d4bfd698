"""Tool calls in the OpenAI wire shape: decoding whole ones and assembling streamed pieces.

Arguments a model sends are untrusted text: arguments that are not a JSON object become an
``error`` on the call (the agent loop reports it back to the model) rather than an exception.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from zhiku.models.llm.types import ToolCall


def decode_call(entry: Any, index: int) -> ToolCall:
    """One ``tool_calls`` entry (``{"id", "function": {"name", "arguments"}}``) as a call."""
    entry = entry if isinstance(entry, dict) else {}
    fn = _function(entry)
    name = str(fn.get("name") or "")
    raw = fn.get("arguments")
    call_id = str(entry.get("id") or f"call_{index}")
    if isinstance(raw, dict):  # a few servers send the object itself
        return ToolCall(call_id, name, raw, json.dumps(raw, ensure_ascii=False))
    text = raw if isinstance(raw, str) else ""
    call = ToolCall(call_id, name, {}, text)
    if not name:
        call.error = "the tool call names no tool"
        return call
    if not text.strip():
        return call  # no arguments: an empty object
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        call.error = f"the arguments are not valid JSON: {exc.msg} at position {exc.pos}"
        return call
    if not isinstance(value, dict):
        call.error = "the arguments are not a JSON object"
        return call
    call.arguments = value
    return call


def _function(entry: dict[str, Any]) -> dict[str, Any]:
    fn = entry.get("function")
    return fn if isinstance(fn, dict) else {}


def decode_calls(entries: Any) -> list[ToolCall]:
    """Every entry of a message's ``tool_calls`` (none when it has no list)."""
    if not isinstance(entries, list):
        return []
    return [decode_call(entry, i) for i, entry in enumerate(entries)]


class StreamedCalls:
    """Assembles the ``delta.tool_calls`` pieces of a stream, keyed by their ``index``."""

    def __init__(self) -> None:
        self._parts: dict[int, dict[str, Any]] = {}

    def feed(self, pieces: Iterable[Any]) -> None:
        """Add one delta's ``tool_calls`` pieces."""
        for piece in pieces:
            if not isinstance(piece, dict):
                continue
            index = piece.get("index")
            key = index if isinstance(index, int) else len(self._parts)
            part = self._parts.setdefault(key, {"id": "", "name": "", "arguments": ""})
            if piece.get("id"):
                part["id"] = str(piece["id"])
            fn = _function(piece)
            if fn.get("name"):
                part["name"] += str(fn["name"])
            args = fn.get("arguments")
            if isinstance(args, str):
                part["arguments"] += args
            elif isinstance(args, dict):
                part["arguments"] += json.dumps(args, ensure_ascii=False)

    def calls(self) -> list[ToolCall]:
        """The assembled calls, in index order."""
        return [
            decode_call({"id": p["id"], "function": {"name": p["name"],
                                                      "arguments": p["arguments"]}}, i)
            for i, p in (sorted(self._parts.items()))
        ]
