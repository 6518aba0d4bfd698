"""Server-sent events, as the streaming endpoints write them."""

from __future__ import annotations

import json
from typing import Any


def sse(event: str, payload: Any) -> str:
    """One server-sent event."""
    return f"event: {event}\ndata: {json.dumps(payload, ensure_ascii=False)}\n\n"
