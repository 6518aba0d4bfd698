"""The audit log's table: append an entry, read a page of them (newest first), or all of them
(oldest first, for export). Nothing here updates or deletes: the table's triggers refuse it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

from zhiku.core.errors import InvalidInput
from zhiku.core.timestamps import stamp
from zhiku.store.db import Database

Result = Literal["success", "failure"]
PAGE_MAX = 500


@dataclass(frozen=True, slots=True)
class Entry:
    """One recorded action."""

    id: int
    at: str
    workspace_id: int | None
    actor_kind: str
    actor_id: str | None
    actor_name: str
    action: str
    target_kind: str | None
    target_id: str | None
    target_name: str | None
    address: str | None
    result: str
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The entry as plain data (what the JSON-lines export writes)."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class NewEntry:
    """An entry to append (``id`` and ``at`` are assigned by the database)."""

    workspace_id: int | None
    actor_kind: str
    actor_id: str | None
    actor_name: str
    action: str
    target_kind: str | None
    target_id: str | None
    target_name: str | None
    address: str | None
    result: Result
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Query:
    """Which entries to read. ``since``/``until`` (exclusive) are ISO dates or times, with a
    zone or in UTC; ``actor`` matches part of the actor's name or its id; ``action`` is one
    action (``kb.delete``), or a family (``kb`` or ``kb.*``)."""

    since: str | None = None
    until: str | None = None
    actor: str | None = None
    action: str | None = None
    result: Result | None = None


@dataclass(frozen=True, slots=True)
class Page:
    """Entries newest first, and the cursor of the next (older) page, if any."""

    entries: list[Entry]
    next_cursor: str | None


_COLUMNS = ("id, at, workspace_id, actor_kind, actor_id, actor_name, action, target_kind, "
            "target_id, target_name, address, result, detail")


def utc_bound(text: str) -> str:
    """An ISO date or time as the stored form (UTC, ``YYYY-MM-DDTHH:MM:SS.fffZ``); a time
    without a zone is UTC. ``InvalidInput`` for anything else."""
    try:
        if len(text) == 10:
            moment = datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
        else:
            moment = datetime.fromisoformat(text.replace(" ", "T"))
    except ValueError:
        raise InvalidInput(f"'{text}' is not an ISO date or time") from None
    return stamp(moment)


def _escape(text: str) -> str:
    """``text`` taken literally by LIKE ... ESCAPE '\\'."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _where(workspace_id: int | None, query: Query) -> tuple[list[str], list[Any]]:
    clauses = ["workspace_id IS NULL" if workspace_id is None else "workspace_id = ?"]
    params: list[Any] = [] if workspace_id is None else [workspace_id]
    if query.since:
        clauses.append("at >= ?")
        params.append(utc_bound(query.since))
    if query.until:
        clauses.append("at < ?")
        params.append(utc_bound(query.until))
    if query.actor:
        clauses.append("(lower(actor_name) LIKE ? ESCAPE '\\' OR actor_id = ?)")
        params += [f"%{_escape(query.actor.lower())}%", query.actor]
    if query.action:
        prefix = query.action[:-1] if query.action.endswith("*") else (
            None if "." in query.action else query.action + ".")
        if prefix is None:
            clauses.append("action = ?")
            params.append(query.action)
        else:
            clauses.append("action LIKE ? ESCAPE '\\'")
            params.append(_escape(prefix) + "%")
    if query.result:
        clauses.append("result = ?")
        params.append(query.result)
    return clauses, params


def _entry(row: Any) -> Entry:
    values = dict(zip(_COLUMNS.split(", "), tuple(row), strict=True))
    values["detail"] = json.loads(values["detail"] or "{}")
    return Entry(**values)


class AuditLog:
    """The ``audit_log`` table of the shared database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def append(self, entry: NewEntry) -> int:
        """Store one entry; its id."""
        with self.db.write() as conn:
            row = conn.execute(
                "INSERT INTO audit_log (workspace_id, actor_kind, actor_id, actor_name, action, "
                "target_kind, target_id, target_name, address, result, detail) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (entry.workspace_id, entry.actor_kind, entry.actor_id, entry.actor_name,
                 entry.action, entry.target_kind, entry.target_id, entry.target_name,
                 entry.address, entry.result,
                 json.dumps(entry.detail, ensure_ascii=False, sort_keys=True, default=str)),
            ).fetchone()
            return int(row[0])

    def page(self, workspace_id: int | None, query: Query, *, cursor: str | None = None,
             limit: int = 100) -> Page:
        """Up to ``limit`` entries of a workspace, newest first, older than ``cursor``."""
        if not 1 <= limit <= PAGE_MAX:
            raise InvalidInput(f"limit is 1-{PAGE_MAX}")
        clauses, params = _where(workspace_id, query)
        if cursor:
            if not cursor.isdigit():
                raise InvalidInput("that cursor did not come from this list")
            clauses.append("id < ?")
            params.append(int(cursor))
        rows = self.db.conn.execute(
            f"SELECT {_COLUMNS} FROM audit_log WHERE {' AND '.join(clauses)} "
            "ORDER BY id DESC LIMIT ?", (*params, limit + 1),
        ).fetchall()
        entries = [_entry(r) for r in rows[:limit]]
        more = len(rows) > limit
        return Page(entries, str(entries[-1].id) if more and entries else None)

    def iterate(self, workspace_id: int | None, query: Query, batch: int = 500
                ) -> Iterator[Entry]:
        """Every matching entry of a workspace, oldest first, read ``batch`` rows at a time."""
        clauses, params = _where(workspace_id, query)
        after = 0
        while True:
            rows = self.db.conn.execute(
                f"SELECT {_COLUMNS} FROM audit_log WHERE {' AND '.join(clauses)} AND id > ? "
                "ORDER BY id LIMIT ?", (*params, after, batch),
            ).fetchall()
            if not rows:
                return
            for row in rows:
                entry = _entry(row)
                after = entry.id
                yield entry

    def actor_name(self, kind: str, actor_id: str | None) -> str:
        """What to show for a user (their e-mail) or a key (its name, else its prefix)."""
        if actor_id is None or not actor_id.isdigit():
            return ""
        if kind == "user":
            row = self.db.conn.execute("SELECT email FROM users WHERE id = ?",
                                       (int(actor_id),)).fetchone()
            return "" if row is None else str(row[0])
        if kind == "key":
            row = self.db.conn.execute("SELECT name, prefix FROM api_keys WHERE id = ?",
                                       (int(actor_id),)).fetchone()
            return "" if row is None else str(row[0] or row[1])
        return ""
