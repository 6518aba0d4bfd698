"""Usage per day in the caller's time zone (``tz``): a call at 01:30 in Shanghai counts on that
Shanghai day, not on the UTC day before; hours stay UTC hours; a bad zone is refused."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from api_helpers import api_settings, make_tenant, seed
from fastapi.testclient import TestClient

from zhiku.api.app import create_app

# 23:00 on 1 March and 01:30 on 2 March in Shanghai (UTC+8), both on 1 March in UTC
pytestmark = pytest.mark.database
TIMES = ("2026-03-01T15:00:00.000Z", "2026-03-01T17:30:00.000Z")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    settings = api_settings(tmp_path_factory.mktemp("usage-tz"))
    with TestClient(create_app(settings)) as client:
        t = make_tenant(settings, "acme")
        seed(client, t, "hr")  # one answered chat: a model call (extractive) and a request
        db = client.app.state.api.runtime.workspace(t.workspace_id).db
        with db.write() as conn:
            for table in ("model_calls", "api_calls"):
                row = dict(conn.execute(f"SELECT * FROM {table} WHERE workspace_id = ? "
                                        "ORDER BY id LIMIT 1", (t.workspace_id,)).fetchone())
                row.pop("id")
                for at in TIMES:
                    row["created_at"] = at
                    cols = ", ".join(row)
                    conn.execute(f"INSERT INTO {table} ({cols}) VALUES "
                                 f"({', '.join('?' for _ in row)})", list(row.values()))
        yield {"client": client, "h": t.headers}


def _days(out: list[dict[str, Any]], key: str) -> dict[str, int]:
    return {p[key]: p["requests"] for p in out}


def test_days_follow_the_time_zone(world: dict[str, Any]) -> None:
    client, h = world["client"], world["h"]
    window = "since=2026-03-01&until=2026-03-02"
    for by in ("assistant", "key"):
        utc = client.get(f"/v1/usage/series?by={by}&{window}", headers=h).json()["points"]
        assert _days(utc, "bucket") == {"2026-03-01": 2}
        local = client.get(f"/v1/usage/series?by={by}&{window}&tz=Asia/Shanghai",
                           headers=h).json()["points"]
        assert _days(local, "bucket") == {"2026-03-01": 1, "2026-03-02": 1}
        assert all(p["avg_latency_ms"] >= 0 and p["calls"] >= 1 for p in local)
    # since/until are the zone's days: 2 March in Shanghai holds only the 01:30 call
    one = client.get("/v1/usage/series?since=2026-03-02&until=2026-03-02&tz=Asia/Shanghai",
                     headers=h).json()["points"]
    assert _days(one, "bucket") == {"2026-03-02": 1}
    hours = client.get(f"/v1/usage/series?bucket=hour&{window}&tz=Asia/Shanghai",
                       headers=h).json()["points"]
    assert {p["bucket"] for p in hours} == {"2026-03-01T15", "2026-03-01T17"}
    table = client.get("/v1/usage?group_by=day&since=2026-03-01&tz=Asia/Shanghai",
                       headers=h).json()
    assert {r["group"]: r["calls"] for r in table if r["group"] < "2026-03-03"} == {
        "2026-03-01": 1, "2026-03-02": 1}
    bad = client.get("/v1/usage/series?tz=Mars/Olympus", headers=h)
    assert bad.status_code == 400 and "time zone" in bad.json()["error"]["message"]
