"""Usage figures from the one usage query: ``/v1/usage`` grouped by assistant, key or day, and
``/v1/usage/series`` over time per assistant or API key (what the console charts)."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from zhiku.accounts.principal import Level
from zhiku.api.deps import Caller, Service
from zhiku.api.schemas import ERRORS, Day
from zhiku.chat.local_days import bounds, by_local_day, zone
from zhiku.core.errors import InvalidInput

router = APIRouter(tags=["feedback"], responses=ERRORS)
TZ = Query(None, max_length=64, description="an IANA time zone (Asia/Shanghai): days are its "
           "calendar days, and since/until its days; none: UTC")


class UsageRow(BaseModel):
    """Answers and their cost in one group (an assistant, a key id or a day). Per assistant and
    day: every model call of the workspace (API, CLI, Python); per key: the API's requests.
    ``calls`` counts model calls (rewrites and failed attempts included)."""

    group: str | int | None
    requests: int
    calls: int
    input_tokens: int
    output_tokens: int
    cost: float
    avg_latency_ms: float
    max_latency_ms: float


class SeriesPoint(BaseModel):
    """One group in one time bucket. ``group``: the assistant's slug or the key's id (None:
    a deleted assistant, or requests made with a session token); ``label``: its name."""

    bucket: str
    group: str | int | None
    label: str | None
    requests: int
    calls: int
    input_tokens: int
    output_tokens: int
    cost: float
    avg_latency_ms: float
    max_latency_ms: float


class SeriesOut(BaseModel):
    """Points ordered by bucket, then group."""

    by: Literal["assistant", "key"]
    bucket: Literal["day", "hour"]
    points: list[SeriesPoint]


@router.get("/v1/usage/series", response_model=SeriesOut)
def usage_over_time(
    caller: Caller,
    zk: Service,
    by: Literal["assistant", "key"] = "assistant",
    bucket: Literal["day", "hour"] = "day",
    since: Day | None = None,
    until: Day | None = None,
    tz: str | None = TZ,
) -> SeriesOut:
    """Requests, model calls, tokens, cost, mean and max latency per day (or hour) and per
    assistant (from every model call) or per API key (from the API's requests); ``since`` and
    ``until`` are inclusive days (admins). Hours are UTC hours; days are UTC days, or the
    calendar days of ``tz``."""
    caller.require(Level.ADMIN)
    if since and until and until < since:
        raise InvalidInput("'until' is before 'since'")
    if tz is None:
        rows = zk.usage(by, bucket=bucket, since=since.isoformat() if since else None,
                        until=(until + timedelta(days=1)).isoformat() if until else None)
    else:
        local = zone(tz)
        start, end = bounds(since, until, local)
        rows = zk.usage(by, bucket="hour", since=start, until=end)
        if bucket == "day":
            rows = by_local_day(rows, local, weight="requests" if by == "key" else "calls")
    return SeriesOut(by=by, bucket=bucket, points=[SeriesPoint(**r) for r in rows])


@router.get("/v1/usage", response_model=list[UsageRow])
def usage(
    caller: Caller,
    zk: Service,
    group_by: Literal["assistant", "key", "day"] = "assistant",
    since: Day | None = None,
    tz: str | None = TZ,
) -> list[UsageRow]:
    """Tokens, cost and latency per assistant, key or day (admins); days and ``since`` are UTC
    days, or the calendar days of ``tz``."""
    caller.require(Level.ADMIN)
    if tz is None:
        rows = zk.usage(group_by, since=since.isoformat() if since else None)
        return [UsageRow(**r) for r in rows]
    local = zone(tz)
    start, _ = bounds(since, None, local)
    if group_by != "day":
        return [UsageRow(**r) for r in zk.usage(group_by, since=start)]
    hourly = zk.usage("day", bucket="hour", since=start)
    return [UsageRow(**r) for r in by_local_day(hourly, local, weight="calls",
                                                 day_is_group=True)]
