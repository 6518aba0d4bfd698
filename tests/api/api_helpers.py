"""Helpers for the HTTP API tests: settings, tenants (what ``zhiku admin init`` makes), seeding."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from waiting import wait_until
from zhiku.accounts.bootstrap import bootstrap
from zhiku.accounts.secrets import HashCost
from zhiku.core.settings import Settings
from zhiku.store.db import open_database

HANDBOOK = (
    "# Employee handbook\n\n## Leave\n\nNew employees get fifteen days of paid annual leave. "
    "Leave requests go to the line manager two weeks in advance.\n\n## Expenses\n\n"
    "Expense claims need the original receipt and the project code. Claims are paid monthly.\n"
)
ZH_POLICY = "# 报销制度\n\n报销需要提供原始发票和项目编号。报销款每月发放一次。\n"


@dataclass
class Tenant:
    """A workspace with an owner, an admin key and (after ``seed``) one of everything."""

    name: str
    workspace_id: int
    email: str
    password: str
    key: str
    ids: dict[str, Any] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


def api_settings(home: Path, **extra: Any) -> Settings:
    """Fast settings: hashing embedder, no rate limit unless asked."""
    values: dict[str, Any] = {
        "home": home, "embedder": "hashing", "api_rate_limit_per_minute": 0, "ocr": False,
    }
    values.update(extra)
    return Settings(**values)


def make_tenant(settings: Settings, name: str) -> Tenant:
    """What ``zhiku admin init`` does (``bootstrap``), for workspace ``name``."""
    email = f"owner@{name}.example"
    password = f"pw-{name}-secret"
    db = open_database(settings)
    try:
        made = bootstrap(db, email, password, name, key_name="admin",
                         cost=HashCost.of(settings))
    finally:
        db.close()
    return Tenant(name, made.workspace_id, email, password, made.key)


def database_text(settings: Settings) -> str:
    """Every row of every table, as text: what a dump of the database would show."""
    db = open_database(settings, migrate=False)
    try:
        sql = (
            "SELECT name FROM sqlite_master WHERE type = 'table'" if db.dialect == "sqlite" else
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        )
        tables = [r[0] for r in db.conn.execute(sql).fetchall()]
        return "\n".join(
            repr(tuple(row)) for t in tables for row in db.conn.execute(f'SELECT * FROM "{t}"')
        )
    finally:
        db.close()


def parse_sse(text: str) -> list[tuple[str, Any]]:
    """A streamed body's server-sent events as (event name, decoded data); an event without a
    name gets ``""``, one without data gets ``None``."""
    out: list[tuple[str, Any]] = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if lines:
            out.append((lines.get("event", ""), json.loads(lines.get("data", "null"))))
    return out


def wait_job(client: Any, headers: dict[str, str], job_id: int, timeout: float = 60) -> dict:
    """Poll a job until it is done, failed or dead."""

    def finished() -> dict | None:
        job = client.get(f"/v1/jobs/{job_id}", headers=headers).json()
        return dict(job) if job["status"] in ("done", "failed", "dead") else None

    return wait_until(finished, timeout, f"job {job_id} to finish", interval=0.1)


def seed(client: Any, t: Tenant, kb: str) -> None:
    """One knowledge base, document, chunk, job, assistant, conversation, message, key, user."""
    h = t.headers
    assert client.post("/v1/kbs", headers=h, json={"name": kb}).status_code == 201
    r = client.post(
        f"/v1/kbs/{kb}/documents", headers=h,
        files=[("files", ("handbook.md", HANDBOOK.encode(), "text/markdown"))],
        data={"tags": "hr,policy"},
    )
    assert r.status_code == 202, r.text
    job = wait_job(client, h, r.json()["id"])
    assert job["status"] == "done", job
    doc_id = job["files"][0]["document_id"]
    chunks = client.get(f"/v1/kbs/{kb}/documents/{doc_id}/chunks", headers=h).json()
    slug = f"{kb}-bot"
    r = client.post("/v1/assistants", headers=h,
                    json={"slug": slug, "name": "Bot", "config": {"knowledge_bases": [kb]}})
    assert r.status_code == 201, r.text
    r = client.post(f"/v1/assistants/{slug}/chat", headers=h,
                    json={"message": "How many days of paid annual leave do new employees get?"})
    assert r.status_code == 200, r.text
    chat = r.json()
    r = client.post("/v1/keys", headers=h, json={"name": "reader", "access": "read"})
    key = r.json()
    viewer = join(client, t, f"viewer@{t.name}.example", "viewer-password", "viewer")
    pending = invite(client, t, f"pending@{t.name}.example", "editor")
    t.ids.update(
        kb=kb, doc_id=doc_id, chunk_id=chunks[0]["id"], job_id=job["id"], slug=slug,
        conversation_id=chat["conversation_id"], message_id=chat["message_id"],
        key_id=key["id"], read_key=key["key"], user_id=viewer["user_id"],
        invitation_id=pending["id"],
    )


def invite(client: Any, t: Tenant, email: str, role: str) -> dict[str, Any]:
    """An invitation from the tenant's admin key (with its one-time token)."""
    r = client.post("/v1/users", headers=t.headers, json={"email": email, "role": role})
    assert r.status_code == 202, r.text
    return dict(r.json())


def join(client: Any, t: Tenant, email: str, password: str, role: str) -> dict[str, Any]:
    """Invite ``email`` and sign up with the token: the new member's ``/v1/auth/me`` and
    session ``headers``."""
    token = invite(client, t, email, role)["token"]
    r = client.post("/v1/auth/signup", json={"token": token, "password": password})
    assert r.status_code == 201, r.text
    headers = {"Authorization": f"Bearer {r.json()['token']}"}
    return {**client.get("/v1/auth/me", headers=headers).json(), "headers": headers}
