"""Tolerant JSON for small models' replies: find the object, repair the usual breakage, parse.

Repairs, in order: code fences and prose around the JSON, ``//`` and ``#`` comments, Python
literals (True/False/None), single-quoted strings, unquoted keys, trailing commas, and brackets
left open at the end of a truncated reply. Pure functions, no I/O.
"""

from __future__ import annotations

import json
import re
from typing import Any

_FENCE_RE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.S)
_COMMENT_RE = re.compile(r'(?m)(?:^|(?<=[,\[{\s]))(?://|#)[^\n"]*$')
_TRAILING_COMMA_RE = re.compile(r",\s*([}\]])")
_UNQUOTED_KEY_RE = re.compile(r"([{,]\s*)([A-Za-z_][A-Za-z0-9_]*)(\s*:)")
_LITERALS = {"True": "true", "False": "false", "None": "null"}


class JsonRepairError(ValueError):
    """The reply holds no JSON that could be repaired; the message says why."""


def _outermost(text: str) -> str:
    fenced = _FENCE_RE.search(text)
    if fenced:
        text = fenced.group(1)
    starts = [i for i in (text.find("{"), text.find("[")) if i >= 0]
    if not starts:
        raise JsonRepairError("no JSON object or array in the reply")
    return text[min(starts):].strip()


def _single_to_double(text: str) -> str:
    out: list[str] = []
    quote: str | None = None
    escaped = False
    for ch in text:
        if quote is not None:
            if escaped:
                escaped = False
                if ch == "'":
                    out[-1] = "'"
                else:
                    out.append(ch)
            elif ch == "\\":
                escaped = True
                out.append(ch)
            elif ch == quote:
                quote = None
                out.append('"')
            elif ch == '"' and quote == "'":
                out.append('\\"')
            else:
                out.append(ch)
        elif ch in "\"'":
            quote = ch
            out.append('"')
        else:
            out.append(ch)
    return "".join(out)


def _close_open(text: str) -> str:
    stack: list[str] = []
    in_string = False
    escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            stack.append("}" if ch == "{" else "]")
        elif ch in "}]" and stack:
            stack.pop()
    if in_string:
        text += '"'
    text = re.sub(r",\s*$", "", text.rstrip())
    if text.endswith(":"):
        text += " null"
    return text + "".join(reversed(stack))


def _cut_to_balanced(text: str) -> str:
    """Drop anything after the first complete top-level value (trailing prose)."""
    depth = 0
    in_string = False
    escaped = False
    for i, ch in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
            if depth == 0:
                return text[: i + 1]
    return text


def loads_lenient(text: str) -> Any:
    """Parse the JSON in a model reply, repairing what can be repaired."""
    candidate = _outermost(text)
    try:
        return json.loads(_cut_to_balanced(candidate))
    except json.JSONDecodeError:
        pass
    fixed = _COMMENT_RE.sub("", candidate)
    if ("'" in fixed and fixed.count('"') < 2) or re.search(r"[{,\[]\s*'", fixed):
        fixed = _single_to_double(fixed)
    fixed = re.sub(r"\b(True|False|None)\b", lambda m: _LITERALS[m.group(1)], fixed)
    fixed = _UNQUOTED_KEY_RE.sub(r'\1"\2"\3', fixed)
    fixed = _close_open(_cut_to_balanced(fixed))
    fixed = _TRAILING_COMMA_RE.sub(r"\1", fixed)
    try:
        return json.loads(fixed)
    except json.JSONDecodeError as exc:
        raise JsonRepairError(f"invalid JSON even after repair: {exc.msg} at char {exc.pos}"
                              ) from exc
