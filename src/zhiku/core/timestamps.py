"""The stored timestamp form: text in UTC with milliseconds, ``YYYY-MM-DDTHH:MM:SS.fffZ``.

It is what the databases write as their ``NOW`` default, so times that Zhiku writes itself and
bounds that filters compare against sort and compare as text with the stored ones.
"""

from __future__ import annotations

from datetime import UTC, datetime


def stamp(moment: datetime) -> str:
    """``moment`` in the stored form; a time without a zone is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def now_stamp() -> str:
    """The current time in the stored form."""
    return stamp(datetime.now(UTC))


def until_bound(value: str) -> str:
    """An inclusive upper bound on stored times: a bare date (``YYYY-MM-DD``) covers its whole
    day; anything else is taken as given."""
    return value + "T23:59:59.999Z" if len(value) == 10 else value
