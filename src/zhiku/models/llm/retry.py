"""Exponential backoff with full jitter (pure: the caller sleeps)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass(slots=True)
class RetryPolicy:
    """``max_retries`` extra attempts; delay ``uniform(0, min(cap, base * 2**n))``."""

    max_retries: int = 2
    base: float = 0.5
    cap: float = 8.0
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``attempt`` (0-based)."""
        ceiling = min(self.cap, self.base * (2**attempt))
        jittered = self.rng.uniform(0, ceiling)
        if retry_after is not None:
            return min(self.cap, max(retry_after, jittered))
        return jittered
