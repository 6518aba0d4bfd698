"""A workspace's tool sources (MCP servers, OpenAPI specs): settings in the clear, secrets
(HTTP headers, environment values) encrypted with the installation's ``SecretBox``.

Secrets are never returned: a source's public form lists their names only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from zhiku.core.errors import Conflict, InvalidInput, NotFound
from zhiku.models.llm.secrets import SecretBox
from zhiku.store.db import Database, Row

SourceKind = Literal["mcp", "openapi"]
SOURCE_NAME_RE = re.compile(r"^[A-Za-z0-9-]{1,32}$")
"""Source names prefix their tools' names (``name__tool``), so they are short and have no
underscore."""


@dataclass(slots=True)
class ToolSource:
    """One registered source: its kind, its settings, and (decrypted, in memory) its secrets."""

    name: str
    kind: SourceKind
    config: dict[str, Any]
    secrets: dict[str, str] = field(default_factory=dict, repr=False)
    created_at: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The public form: settings, and the secrets' names only."""
        return {"name": self.name, "kind": self.kind, "config": self.config,
                "secret_names": sorted(self.secrets), "created_at": self.created_at}


class ToolSourceStore:
    """Add, read and remove the tool sources of one workspace."""

    def __init__(self, db: Database, workspace_id: int, box: SecretBox,
                 audit: Callable[..., object] | None = None) -> None:
        """``audit``: the workspace's recorder (``zk.audit``) additions and removals go to."""
        self._db = db
        self._ws = workspace_id
        self._box = box
        self._audit = audit

    def add(self, source: ToolSource, *, replace: bool = False) -> ToolSource:
        """Store ``source`` (its secrets encrypted)."""
        if not SOURCE_NAME_RE.match(source.name):
            raise InvalidInput(f"'{source.name}' is not a tool source name (1-32 letters, "
                               "digits and -)")
        token = self._box.encrypt(json.dumps(source.secrets)) if source.secrets else None
        sql = ("INSERT INTO tool_sources (workspace_id, name, kind, config, secrets_encrypted) "
               "VALUES (?, ?, ?, ?, ?)")
        if replace:
            sql += (" ON CONFLICT (workspace_id, name) DO UPDATE SET kind = excluded.kind,"
                    " config = excluded.config, secrets_encrypted = excluded.secrets_encrypted,"
                    f" updated_at = {self._db.now}")
        try:
            with self._db.write() as conn:
                conn.execute(sql, (self._ws, source.name, source.kind,
                                   json.dumps(source.config, ensure_ascii=False), token))
        except self._db.IntegrityError as exc:
            raise Conflict(f"tool source '{source.name}' already exists") from exc
        if self._audit is not None:  # the secrets' names only, never their values
            self._audit("tool_source.add", "tool_source", None, source.name,
                        detail={"kind": source.kind, "replace": replace,
                                "sealed_fields": sorted(source.secrets)})
        return self.get(source.name)

    def get(self, name: str) -> ToolSource:
        """The source called ``name``, secrets decrypted."""
        row = self._db.conn.execute(
            "SELECT * FROM tool_sources WHERE workspace_id = ? AND name = ?", (self._ws, name)
        ).fetchone()
        if row is None:
            raise NotFound(f"tool source '{name}' does not exist")
        return self._load(row)

    def find(self, name: str) -> ToolSource | None:
        """The source called ``name``, or None."""
        try:
            return self.get(name)
        except NotFound:
            return None

    def list(self, kind: SourceKind | None = None) -> list[ToolSource]:
        """Every source (of ``kind``), by name."""
        sql = "SELECT * FROM tool_sources WHERE workspace_id = ?"
        args: list[Any] = [self._ws]
        if kind is not None:
            sql += " AND kind = ?"
            args.append(kind)
        rows = self._db.conn.execute(sql + " ORDER BY name", args).fetchall()
        return [self._load(r) for r in rows]

    def delete(self, name: str) -> None:
        """Remove a source."""
        self.get(name)
        with self._db.write() as conn:
            conn.execute("DELETE FROM tool_sources WHERE workspace_id = ? AND name = ?",
                         (self._ws, name))
        if self._audit is not None:
            self._audit("tool_source.remove", "tool_source", None, name)

    def _load(self, row: Row) -> ToolSource:
        token = row["secrets_encrypted"]
        secrets = json.loads(self._box.decrypt(bytes(token))) if token is not None else {}
        return ToolSource(row["name"], row["kind"], json.loads(row["config"]), secrets,
                          row["created_at"])
