"""Share links as stored, and their request counters (one small table each, both backends)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from zhiku.core.errors import NotFound
from zhiku.store.db import Database, Row

AppKind = str  # "assistant", "workflow" or "agent"


@dataclass(slots=True)
class ShareLink:
    """A share link as the admin surface shows it (no secret, no hash)."""

    id: int
    workspace_id: int
    app_kind: AppKind
    app_id: int
    app_slug: str
    name: str
    token_hint: str
    enabled: bool
    has_password: bool
    expires_at: str | None
    rate_per_minute: int
    daily_quota: int
    allowed_origins: list[str] = field(default_factory=list)
    created_at: str = ""
    updated_at: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {k: getattr(self, k) for k in self.__slots__}


@dataclass(slots=True)
class LinkSecrets:
    """The stored secrets of a link: the visitor-token key and identity-signing secret
    (encrypted), and the password's hash."""

    visitor_key: bytes
    signing_secret: bytes
    password_hash: str | None


_COLUMNS = (
    "id, workspace_id, app_kind, app_id, app_slug, name, token_hint, enabled, password_hash, "
    "expires_at, rate_per_minute, daily_quota, allowed_origins, created_at, updated_at"
)
UPDATABLE = frozenset({"name", "enabled", "password_hash", "expires_at", "rate_per_minute",
                       "daily_quota", "allowed_origins"})


def _link(r: Row) -> ShareLink:
    return ShareLink(
        id=int(r["id"]), workspace_id=int(r["workspace_id"]), app_kind=r["app_kind"],
        app_id=int(r["app_id"]), app_slug=r["app_slug"], name=r["name"],
        token_hint=r["token_hint"], enabled=bool(r["enabled"]),
        has_password=r["password_hash"] is not None, expires_at=r["expires_at"],
        rate_per_minute=int(r["rate_per_minute"]), daily_quota=int(r["daily_quota"]),
        allowed_origins=json.loads(r["allowed_origins"]), created_at=r["created_at"],
        updated_at=r["updated_at"],
    )


class ShareLinkStore:
    """Rows of ``share_links`` and ``share_counters``. Admin reads and writes are confined to
    one workspace; the public lookups (by token hash, by id for a visitor) span the server."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def create(self, workspace_id: int, kind: AppKind, app_id: int, slug: str, *,
               token_hash: str, token_hint: str, visitor_key: bytes, signing_secret: bytes,
               created_by: int | None, **settings: Any) -> ShareLink:
        """A new link; ``settings`` are columns of ``UPDATABLE``."""
        cols = {k: _db_value(k, v) for k, v in settings.items() if k in UPDATABLE}
        names = ["workspace_id", "app_kind", "app_id", "app_slug", "token_hash", "token_hint",
                 "visitor_key", "signing_secret", "created_by", *cols]
        values = [workspace_id, kind, app_id, slug, token_hash, token_hint, visitor_key,
                  signing_secret, created_by, *cols.values()]
        with self._db.write() as conn:
            row = conn.execute(
                f"INSERT INTO share_links ({', '.join(names)}) VALUES "
                f"({', '.join('?' * len(names))}) RETURNING id", values,
            ).fetchone()
        return self.get(workspace_id, int(row[0]))

    def get(self, workspace_id: int, link_id: int) -> ShareLink:
        """A link of the workspace (``NotFound`` otherwise)."""
        row = self._db.conn.execute(
            f"SELECT {_COLUMNS} FROM share_links WHERE id = ? AND workspace_id = ?",
            (link_id, workspace_id),
        ).fetchone()
        if row is None:
            raise NotFound(f"share link {link_id} does not exist")
        return _link(row)

    def list(self, workspace_id: int, kind: AppKind, app_id: int) -> list[ShareLink]:
        """The links of one app, oldest first."""
        rows = self._db.conn.execute(
            f"SELECT {_COLUMNS} FROM share_links WHERE workspace_id = ? AND app_kind = ? "
            "AND app_id = ? ORDER BY id", (workspace_id, kind, app_id),
        ).fetchall()
        return [_link(r) for r in rows]

    def update(self, workspace_id: int, link_id: int, **changes: Any) -> ShareLink:
        """Set columns of ``UPDATABLE`` (and the token columns when rotating)."""
        allowed = UPDATABLE | {"token_hash", "token_hint", "visitor_key", "signing_secret"}
        cols = {k: _db_value(k, v) for k, v in changes.items() if k in allowed}
        self.get(workspace_id, link_id)
        if cols:
            sets = ", ".join(f"{k} = ?" for k in cols)
            with self._db.write() as conn:
                conn.execute(
                    f"UPDATE share_links SET {sets}, updated_at = {self._db.now} "
                    "WHERE id = ? AND workspace_id = ?", [*cols.values(), link_id, workspace_id],
                )
        return self.get(workspace_id, link_id)

    def delete(self, workspace_id: int, link_id: int) -> None:
        """Remove a link (its conversations stay, without their link)."""
        self.get(workspace_id, link_id)
        with self._db.write() as conn:
            conn.execute("DELETE FROM share_links WHERE id = ? AND workspace_id = ?",
                         (link_id, workspace_id))

    def by_token_hash(self, digest: str) -> ShareLink | None:
        """The link whose token hashes to ``digest``, in any workspace."""
        row = self._db.conn.execute(
            f"SELECT {_COLUMNS} FROM share_links WHERE token_hash = ?", (digest,)
        ).fetchone()
        return None if row is None else _link(row)

    def secrets(self, link_id: int) -> LinkSecrets:
        """The stored secrets of a link."""
        row = self._db.conn.execute(
            "SELECT visitor_key, signing_secret, password_hash FROM share_links WHERE id = ?",
            (link_id,),
        ).fetchone()
        if row is None:
            raise NotFound(f"share link {link_id} does not exist")
        return LinkSecrets(bytes(row[0]), bytes(row[1]), row[2])

    def hit(self, link_id: int, window: str, subject: str) -> int:
        """Count one request of ``subject`` in ``window``; the count including it. The first
        count of a window drops the link's older windows of the same kind (same prefix)."""
        kind = window.split(":", 1)[0] + ":"
        with self._db.write() as conn:
            row = conn.execute(
                "INSERT INTO share_counters (link_id, window_start, subject, hits) "
                "VALUES (?, ?, ?, 1) ON CONFLICT (link_id, window_start, subject) "
                "DO UPDATE SET hits = share_counters.hits + 1 RETURNING hits",
                (link_id, window, subject),
            ).fetchone()
            if int(row[0]) == 1:
                conn.execute(
                    "DELETE FROM share_counters WHERE link_id = ? AND window_start >= ? "
                    "AND window_start < ?", (link_id, kind, window),
                )
        return int(row[0])


def _db_value(column: str, value: Any) -> Any:
    if column == "allowed_origins":
        return json.dumps(list(value))
    if column == "enabled":
        return int(bool(value))
    return value
