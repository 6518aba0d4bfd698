"""Share links through the Python API on a real database: windows of the limits, secrets shown
once, and the gate's answers for links that are not live."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from zhiku.core.errors import Conflict, InvalidInput, NotFound, RateLimited, Unauthorized
from zhiku.models.llm.secrets import SecretBox
from zhiku.service import Zhiku
from zhiku.share.apps import app_by_id
from zhiku.share.gate import ShareGate
from zhiku.share.links import AppRef
from zhiku.share.store import ShareLink, ShareLinkStore


@pytest.fixture
def shared(zk: Zhiku) -> Zhiku:
    zk.create_kb("hr", embedder="hashing")
    zk.create_assistant("HR", slug="hr-bot", knowledge_bases=["hr"])
    return zk


def _gate(zk: Zhiku) -> ShareGate:
    def app(link: ShareLink) -> AppRef | None:
        return app_by_id(zk.apps, zk.db, zk.workspace_id, link.app_kind, link.app_id)

    return ShareGate(ShareLinkStore(zk.db), SecretBox(zk.settings.home), app, 10)


def test_links_need_a_published_assistant_and_show_secrets_once(shared: Zhiku) -> None:
    with pytest.raises(Conflict):
        shared.share.create("hr-bot")
    shared.publish_assistant("hr-bot")
    made = shared.share.create("hr-bot", name="intranet", allowed_origins=["https://A.example/"])
    assert made.link.allowed_origins == ["https://a.example"]
    stored = shared.db.conn.execute("SELECT * FROM share_links").fetchone()
    row = " ".join(str(v) for v in dict(stored).values())
    assert made.token not in row and (made.signing_secret or "x") not in row
    with pytest.raises(NotFound):
        shared.share.create("no-such-bot")
    with pytest.raises(InvalidInput):
        shared.share.create("hr-bot", kind="dataset")
    with pytest.raises(NotFound):  # an assistant's slug does not name a workflow
        shared.share.create("hr-bot", kind="workflow")
    with pytest.raises(InvalidInput):
        shared.share.update(made.link.id, allowed_origins=["*"])
    with pytest.raises(InvalidInput):
        shared.share.update(made.link.id, expires_at="tomorrow")


def test_limit_windows_turn_over(shared: Zhiku) -> None:
    shared.publish_assistant("hr-bot")
    link = shared.share.create("hr-bot", rate_per_minute=2, daily_quota=2).link
    gate = _gate(shared)
    t0 = datetime(2026, 12, 4, 23, 59, 10, tzinfo=UTC)
    gate.limit(link, "10.0.0.1", t0)
    gate.limit(link, "10.0.0.1", t0)
    with pytest.raises(RateLimited) as over:
        gate.limit(link, "10.0.0.1", t0)
    assert over.value.details["retry_after"] == 50
    gate.limit(link, "10.0.0.2", t0)  # per address
    gate.limit(link, "10.0.0.1", t0 + timedelta(minutes=1))  # the next minute
    windows = {r[0] for r in shared.db.conn.execute(
        "SELECT window_start FROM share_counters WHERE window_start LIKE 'm:%'")}
    assert windows == {"m:2026-12-05T00:00"}  # the passed minute was dropped
    gate.quota(link, t0)
    gate.quota(link, t0)
    with pytest.raises(RateLimited) as day:
        gate.quota(link, t0)
    assert day.value.details["retry_after"] == 51
    gate.quota(link, t0 + timedelta(minutes=1))  # a new UTC day


def test_dead_links_and_passwords(shared: Zhiku) -> None:
    shared.publish_assistant("hr-bot")
    made = shared.share.create("hr-bot", password="open sesame")
    gate = _gate(shared)
    link = gate.resolve(made.token)
    with pytest.raises(Unauthorized) as missing:
        gate.open_session(link, origin="")
    assert missing.value.details == {"needs": "password"}
    token, claims = gate.open_session(link, origin="", password="open sesame")
    assert gate.visitor(link, token, "") == claims
    rotated = shared.share.rotate(link.id)
    with pytest.raises(NotFound):
        gate.resolve(made.token)
    fresh = gate.resolve(rotated.token)
    with pytest.raises(Unauthorized):
        gate.visitor(fresh, token, "")
    shared.share.update(link.id, expires_at=(datetime.now(UTC) - timedelta(seconds=1))
                        .isoformat())
    with pytest.raises(NotFound):
        gate.resolve(rotated.token)
    shared.share.update(link.id, expires_at=None, enabled=False)
    with pytest.raises(NotFound):
        gate.resolve(rotated.token)
    shared.share.update(link.id, enabled=True)
    gate.resolve(rotated.token)
    shared.delete_assistant("hr-bot")
    with pytest.raises(NotFound):
        gate.resolve(rotated.token)
