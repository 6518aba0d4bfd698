"""The stored timestamp form: Zhiku's own times (backups, share link expiry, audit and log
bounds) have the form the database's ``NOW`` default writes, so they compare as text."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from zhiku.core.timestamps import now_stamp, stamp, until_bound
from zhiku.service import Zhiku

FORM = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def test_a_stamp_is_utc_with_milliseconds() -> None:
    moment = datetime(2026, 12, 4, 8, 1, 2, 345678, tzinfo=timezone(timedelta(hours=8)))
    assert stamp(moment) == "2026-12-04T00:01:02.345Z"
    assert stamp(datetime(2026, 12, 4, 1, 2, 3)) == "2026-12-04T01:02:03.000Z"  # naive: UTC
    assert stamp(datetime(2026, 12, 4, tzinfo=UTC)) == "2026-12-04T00:00:00.000Z"


def test_a_bare_date_as_upper_bound_covers_its_day() -> None:
    assert until_bound("2026-12-04") == "2026-12-04T23:59:59.999Z"
    assert until_bound("2026-12-04T08:00:00.000Z") == "2026-12-04T08:00:00.000Z"


def test_stamps_sort_with_what_the_database_writes(zk: Zhiku) -> None:
    before = now_stamp()
    zk.create_kb("stamped")
    after = now_stamp()
    (written,) = zk.db.conn.execute(
        "SELECT created_at FROM knowledge_bases WHERE name = ?", ("stamped",)).fetchone()
    assert FORM.fullmatch(before) and FORM.fullmatch(written)
    assert before <= written <= after
    assert until_bound(written[:10]) >= written
