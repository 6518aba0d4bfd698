"""Server-sent events, as the streaming endpoints write them."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

from zhiku.core.errors import ZhikuError

log = logging.getLogger(__name__)


class SseEvent(Protocol):
    """An event that renders itself as one server-sent event."""

    def sse(self) -> str:
        """The ``event:``/``data:`` lines."""
        ...


ErrorEvent = Callable[[str, str], str]
"""Renders a failure (its kind and message) as the stream's last event."""


def sse(event: str, payload: Any) -> str:
    """One server-sent event."""
    return f"event: {event}\ndata: {json.dumps(payload, ensure_ascii=False)}\n\n"


def error_event(kind: str, message: str) -> str:
    """A failure as an ``error`` event: ``{"type": "error", "error": {"type", "message"}}``."""
    return sse("error", {"type": "error", "error": {"type": kind, "message": message}})


def sse_events(events: Iterable[SseEvent], failed: ErrorEvent = error_event,
               what: str = "stream") -> Iterator[str]:
    """A run's events as SSE; a failure after the stream began becomes ``failed(kind,
    message)`` (an unexpected one is logged and shown as ``internal_error``)."""
    try:
        for event in events:
            yield event.sse()
    except ZhikuError as exc:
        yield failed(exc.kind, exc.message)
    except Exception:
        log.exception("%s failed", what)
        yield failed("internal_error", "internal server error")
