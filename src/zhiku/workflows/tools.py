"""Tools a workflow's tool nodes call by name: a small registry of ``Tool`` objects.

Built in: ``current_time`` and ``calculator`` (arithmetic through ``simpleeval``, no names).
More tools (OpenAPI operations, MCP servers) implement the same ``Tool`` protocol.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from simpleeval import SimpleEval

from zhiku.core.errors import InvalidInput


class Tool(Protocol):
    """A callable tool: a name, a description, a JSON schema of its arguments, and ``call``."""

    name: str
    description: str
    parameters: dict[str, Any]

    def call(self, args: Mapping[str, Any]) -> Any:
        """Run with ``args``; returns JSON-ready data. Bad arguments raise ``InvalidInput``."""
        ...


class CurrentTime:
    """The current date and time, ISO 8601, in a time zone (default UTC)."""

    name = "current_time"
    description = "The current date and time (ISO 8601) in an IANA time zone, UTC by default."

    def __init__(self) -> None:
        self.parameters: dict[str, Any] = {
            "type": "object",
            "properties": {"timezone": {"type": "string", "description": "e.g. Asia/Shanghai"}},
        }

    def call(self, args: Mapping[str, Any]) -> Any:
        """``{"iso": …, "timezone": …, "unix": …}``."""
        name = str(args.get("timezone") or "UTC")
        try:
            zone = UTC if name == "UTC" else ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidInput(f"unknown time zone '{name}'") from None
        now = datetime.now(zone)
        return {"iso": now.isoformat(), "timezone": name, "unix": now.timestamp()}


class Calculator:
    """Arithmetic on numbers (``+ - * / // % **``, parentheses); no names, no calls."""

    name = "calculator"
    description = "Evaluate an arithmetic expression, e.g. (3 + 4) * 2.5."

    def __init__(self) -> None:
        self.parameters: dict[str, Any] = {
            "type": "object",
            "properties": {"expression": {"type": "string"}},
            "required": ["expression"],
        }

    def call(self, args: Mapping[str, Any]) -> Any:
        """The value of ``expression``."""
        expr = str(args.get("expression", ""))
        if not expr.strip() or len(expr) > 1000:
            raise InvalidInput("calculator: an expression of 1-1000 characters is needed")
        try:
            value = SimpleEval(names={}, functions={}).eval(expr)
        except Exception as exc:  # simpleeval raises many kinds; all mean a bad expression
            raise InvalidInput(f"calculator: {type(exc).__name__}: {exc}") from None
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise InvalidInput("calculator: the expression is not a number")
        return value


class ToolRegistry:
    """Tools by name."""

    def __init__(self, tools: Iterable[Tool] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        for tool in tools:
            self.register(tool)

    def register(self, tool: Tool) -> None:
        """Add ``tool`` (its name must be new)."""
        if tool.name in self._tools:
            raise InvalidInput(f"tool '{tool.name}' is already registered")
        self._tools[tool.name] = tool

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def get(self, name: str) -> Tool:
        """The tool called ``name``."""
        try:
            return self._tools[name]
        except KeyError:
            raise InvalidInput(f"unknown tool '{name}'") from None

    def names(self) -> list[str]:
        """Every tool's name, sorted."""
        return sorted(self._tools)


def builtin_tools() -> ToolRegistry:
    """A registry of the built-in tools."""
    return ToolRegistry([CurrentTime(), Calculator()])
