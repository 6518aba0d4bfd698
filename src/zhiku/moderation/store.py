"""A workspace's moderation policy and its append-only log of hits."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from zhiku.moderation.policy import ModerationPolicy
from zhiku.store.db import Database

EXCERPT_CHARS = 80


@dataclass(frozen=True, slots=True)
class Hit:
    """One moderation decision worth recording."""

    direction: str  # input | output
    action: str  # block | mask | allow (the endpoint failed and the policy allows)
    source: str  # words | endpoint
    words: list[str]
    excerpt: str
    app: str | None = None
    channel: str | None = None


class ModerationStore:
    """Read and replace one workspace's policy; record and list its hits."""

    def __init__(self, db: Database, workspace_id: int) -> None:
        self._db = db
        self._ws = workspace_id

    def policy(self) -> ModerationPolicy | None:
        """The stored policy, or None when the workspace has none."""
        row = self._db.conn.execute(
            "SELECT policy FROM moderation_policies WHERE workspace_id = ?", (self._ws,)
        ).fetchone()
        return None if row is None else ModerationPolicy.model_validate_json(row["policy"])

    def version(self) -> str | None:
        """When the policy last changed (a cache key), or None."""
        row = self._db.conn.execute(
            "SELECT updated_at FROM moderation_policies WHERE workspace_id = ?", (self._ws,)
        ).fetchone()
        return None if row is None else str(row["updated_at"])

    def save(self, policy: ModerationPolicy) -> None:
        """Replace the policy."""
        with self._db.write() as conn:
            conn.execute(
                "INSERT INTO moderation_policies (workspace_id, policy) VALUES (?, ?) "
                "ON CONFLICT (workspace_id) DO UPDATE SET policy = excluded.policy, "
                f"updated_at = {self._db.now}",
                (self._ws, policy.model_dump_json()),
            )

    def clear(self) -> None:
        """Remove the policy (nothing is moderated)."""
        with self._db.write() as conn:
            conn.execute("DELETE FROM moderation_policies WHERE workspace_id = ?", (self._ws,))

    def record(self, hit: Hit) -> None:
        """Append one hit."""
        with self._db.write() as conn:
            conn.execute(
                "INSERT INTO moderation_hits (workspace_id, direction, app, channel, action, "
                "source, words, excerpt) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (self._ws, hit.direction, hit.app, hit.channel, hit.action, hit.source,
                 json.dumps(hit.words, ensure_ascii=False), hit.excerpt[:EXCERPT_CHARS * 2]),
            )

    def hits(self, limit: int = 50, before: int | None = None) -> list[dict[str, Any]]:
        """Hits newest first; ``before`` pages on (an id from the previous page)."""
        sql = "SELECT * FROM moderation_hits WHERE workspace_id = ?"
        args: list[Any] = [self._ws]
        if before is not None:
            sql += " AND id < ?"
            args.append(before)
        rows = self._db.conn.execute(sql + " ORDER BY id DESC LIMIT ?", (*args, limit))
        return [{"id": r["id"], "at": str(r["at"]), "direction": r["direction"],
                 "app": r["app"], "channel": r["channel"], "action": r["action"],
                 "source": r["source"], "words": json.loads(r["words"]),
                 "excerpt": r["excerpt"]} for r in rows]
