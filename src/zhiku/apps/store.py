"""Assistants and their published versions, in the workspace's database."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from zhiku.apps.slugs import claim
from zhiku.apps.types import Assistant, AssistantConfig, slugify
from zhiku.core.errors import Conflict, InvalidInput, NotFound
from zhiku.store.db import Connection, Database, Row


class AssistantStore:
    """Create, edit (the draft), publish (a new frozen version) and read assistants."""

    def __init__(self, db: Database, workspace_id: int) -> None:
        self._db = db
        self._ws = workspace_id

    def create(self, name: str, config: AssistantConfig, slug: str | None = None) -> Assistant:
        """A new assistant with ``config`` as its draft."""
        if not name.strip():
            raise InvalidInput("an assistant needs a name")
        slug = slug or slugify(name)
        try:
            with self._db.write() as conn:
                claim(self._db, conn, self._ws, slug)
                conn.execute(
                    "INSERT INTO assistants (workspace_id, slug, name, draft) VALUES (?, ?, ?, ?)",
                    (self._ws, slug, name, config.model_dump_json()),
                )
        except self._db.IntegrityError as exc:
            raise Conflict(f"assistant '{slug}' already exists") from exc
        return self.get(slug)

    def draft_after(self, slug: str, **changes: Any) -> AssistantConfig:
        """The draft ``update`` would write for ``changes`` (validated as a whole)."""
        changes.pop("name", None)
        merged = self.get(slug).draft.model_dump(mode="json")
        if "retrieval" in changes and isinstance(changes["retrieval"], dict):
            merged["retrieval"] = {**merged["retrieval"], **changes.pop("retrieval")}
        merged.update(changes)
        return AssistantConfig.model_validate(merged)

    def update(self, slug: str, **changes: Any) -> Assistant:
        """Change fields of the draft (validated as a whole); published versions stay as is."""
        current = self.get(slug)
        name = changes.get("name")
        draft = self.draft_after(slug, **changes)
        with self._db.write() as conn:
            conn.execute(
                "UPDATE assistants SET draft = ?, name = COALESCE(?, name), "
                f"updated_at = {self._db.now} WHERE id = ?",
                (draft.model_dump_json(), name, current.id),
            )
        return self.get(slug)

    def publish(
        self, slug: str, note: str | None = None, *, expect: AssistantConfig | None = None,
        on_publish: Callable[[Connection, int, int], None] | None = None,
    ) -> int:
        """Freeze the draft as the next version and make it live; returns the version number.

        ``expect``: the draft the caller checked; a draft changed since is refused
        (``Conflict``). ``on_publish(conn, assistant_id, version)`` runs in the same
        transaction (to record what the release was checked against)."""
        with self._db.write() as conn:
            row = self._row(conn, slug, lock=True)
            if expect is not None and AssistantConfig.model_validate_json(row["draft"]) != expect:
                raise Conflict(f"the draft of '{row['slug']}' changed while it was checked; "
                               "publish again")
            version = int(conn.execute(
                "SELECT COALESCE(MAX(version), 0) + 1 FROM assistant_versions "
                "WHERE assistant_id = ?",
                (row["id"],),
            ).fetchone()[0])
            conn.execute(
                "INSERT INTO assistant_versions (assistant_id, version, config, note) "
                "VALUES (?, ?, ?, ?)",
                (row["id"], version, row["draft"], note),
            )
            conn.execute(
                "UPDATE assistants SET published_version = ?, "
                f"updated_at = {self._db.now} WHERE id = ?",
                (version, row["id"]),
            )
            if on_publish is not None:
                on_publish(conn, int(row["id"]), version)
        return version

    def rollback(self, slug: str, version: int | None = None) -> int:
        """Make an earlier published version live again (default: the one before the live
        version); returns its number. The draft and the versions stay as they are."""
        with self._db.write() as conn:
            row = self._row(conn, slug, lock=True)
            live = row["published_version"]
            if live is None:
                raise Conflict(f"assistant '{row['slug']}' has no published version")
            if version is None:
                found = conn.execute(
                    "SELECT MAX(version) FROM assistant_versions "
                    "WHERE assistant_id = ? AND version < ?",
                    (row["id"], live),
                ).fetchone()[0]
                if found is None:
                    raise Conflict(f"assistant '{row['slug']}' has no version before v{live}")
                version = int(found)
            elif conn.execute(
                "SELECT 1 FROM assistant_versions WHERE assistant_id = ? AND version = ?",
                (row["id"], version),
            ).fetchone() is None:
                raise NotFound(f"assistant '{row['slug']}' has no version {version}")
            conn.execute(
                "UPDATE assistants SET published_version = ?, "
                f"updated_at = {self._db.now} WHERE id = ?",
                (version, row["id"]),
            )
        return version

    def delete(self, slug: str) -> None:
        """Remove an assistant and its versions (its conversations stay, detached)."""
        with self._db.write() as conn:
            row = self._row(conn, slug)
            conn.execute("DELETE FROM assistants WHERE id = ?", (row["id"],))

    def versions(self, slug: str) -> list[dict[str, Any]]:
        """The published versions, newest first: number, frozen configuration, note, date."""
        row = self._row(self._db.conn, slug)
        rows = self._db.conn.execute(
            "SELECT version, config, note, created_at FROM assistant_versions "
            "WHERE assistant_id = ? ORDER BY version DESC",
            (row["id"],),
        ).fetchall()
        return [
            {"version": r["version"], "note": r["note"], "created_at": r["created_at"],
             "config": AssistantConfig.model_validate_json(r["config"])}
            for r in rows
        ]

    def get(self, slug: str) -> Assistant:
        """The assistant with this slug (or name)."""
        return self._load(self._row(self._db.conn, slug))

    def get_by_id(self, assistant_id: int) -> Assistant:
        """The assistant with this id."""
        row = self._db.conn.execute(
            "SELECT * FROM assistants WHERE id = ? AND workspace_id = ?", (assistant_id, self._ws)
        ).fetchone()
        if row is None:
            raise NotFound(f"assistant {assistant_id} does not exist")
        return self._load(row)

    def version(self, slug: str, version: int) -> AssistantConfig:
        """The frozen configuration of one published version."""
        row = self._db.conn.execute(
            "SELECT v.config FROM assistant_versions v JOIN assistants a ON a.id = v.assistant_id "
            "WHERE a.workspace_id = ? AND a.slug = ? AND v.version = ?",
            (self._ws, slug, version),
        ).fetchone()
        if row is None:
            raise NotFound(f"assistant '{slug}' has no version {version}")
        return AssistantConfig.model_validate_json(row["config"])

    def list(self) -> list[Assistant]:
        """Every assistant of the workspace, by slug."""
        rows = self._db.conn.execute(
            "SELECT * FROM assistants WHERE workspace_id = ? ORDER BY slug", (self._ws,)
        ).fetchall()
        return [self._load(r) for r in rows]

    def _row(self, conn: Connection, slug: str, *, lock: bool = False) -> Row:
        """The assistant by slug or name; ``lock``: held until the transaction ends (PostgreSQL;
        SQLite's writers queue anyway), so concurrent publishes number versions in turn."""
        locking = self._db.lock_row() if lock else ""
        row = conn.execute(
            "SELECT * FROM assistants WHERE workspace_id = ? AND (slug = ? OR name = ?) "
            "ORDER BY slug = ? DESC LIMIT 1" + locking,
            (self._ws, slug, slug, slug),
        ).fetchone()
        if row is None:
            raise NotFound(f"assistant '{slug}' does not exist")
        return row

    def _load(self, row: Row) -> Assistant:
        published = None
        if row["published_version"] is not None:
            v = self._db.conn.execute(
                "SELECT config FROM assistant_versions WHERE assistant_id = ? AND version = ?",
                (row["id"], row["published_version"]),
            ).fetchone()
            published = AssistantConfig.model_validate(json.loads(v["config"]))
        return Assistant(
            id=row["id"], slug=row["slug"], name=row["name"],
            draft=AssistantConfig.model_validate(json.loads(row["draft"])),
            published_version=row["published_version"], published=published,
            created_at=row["created_at"], updated_at=row["updated_at"],
        )
