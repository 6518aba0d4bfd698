"""Usage per calendar day of a time zone: the hourly (UTC) figures of the usage query summed
into the zone's days, so a day starts at the user's midnight, not at UTC's. Mean latencies are
weighted by what they average (model calls per assistant or day, requests per key)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from zhiku.core.errors import InvalidInput
from zhiku.core.timestamps import stamp


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name`` (``Asia/Shanghai``, ``UTC``), or ``InvalidInput``."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"'{name[:64]}' is not a time zone (e.g. Asia/Shanghai)") from None


def bounds(since: date | None, until: date | None, tz: ZoneInfo) -> tuple[str | None, str | None]:
    """The UTC times (as stored) where the local day ``since`` starts and the local day
    ``until`` ends (exclusive)."""
    def start(day: date) -> str:
        return stamp(datetime.combine(day, time(), tz).astimezone(UTC))

    return (start(since) if since else None,
            start(until + timedelta(days=1)) if until else None)


def local_day(hour: str, tz: ZoneInfo) -> str:
    """The local day of a UTC hour bucket (``2026-12-04T16`` → ``2026-12-05`` in Shanghai)."""
    at = datetime.strptime(hour, "%Y-%m-%dT%H").replace(tzinfo=UTC)
    return at.astimezone(tz).date().isoformat()


def by_local_day(rows: Iterable[dict[str, Any]], tz: ZoneInfo, *, weight: str,
                 day_is_group: bool = False) -> list[dict[str, Any]]:
    """Hourly usage rows summed per local day (and group); ``weight``: the count a row's mean
    latency is taken over (``calls`` or ``requests``). ``day_is_group``: the rows are grouped
    by day, whose local day becomes their group too."""
    out: dict[tuple[str, Any], dict[str, Any]] = {}
    for r in rows:
        day = local_day(str(r["bucket"]), tz)
        group = day if day_is_group else r["group"]
        acc = out.get((day, group))
        if acc is None:
            acc = out[(day, group)] = {**r, "bucket": day, "group": group, "requests": 0,
                                       "calls": 0, "input_tokens": 0, "output_tokens": 0,
                                       "cost": 0.0, "avg_latency_ms": 0.0,
                                       "max_latency_ms": 0.0, "_w": 0}
        n = int(r[weight])
        mean = (acc["avg_latency_ms"] * acc["_w"] + r["avg_latency_ms"] * n)
        acc["_w"] += n
        acc["avg_latency_ms"] = mean / acc["_w"] if acc["_w"] else 0.0
        acc["max_latency_ms"] = max(acc["max_latency_ms"], r["max_latency_ms"])
        for k in ("requests", "calls", "input_tokens", "output_tokens", "cost"):
            acc[k] += r[k]
    rows_out = [{k: v for k, v in acc.items() if k != "_w"} for acc in out.values()]
    rows_out.sort(key=lambda x: (x["bucket"], x["group"] is not None, str(x["group"])))
    return rows_out
