"""Shared value types that cross layers."""

from __future__ import annotations

from typing import Any

JSON = dict[str, Any]
Vector = list[float]
