"""Workspaces and knowledge bases, in SQL both backends run as is."""

from __future__ import annotations

import json
from typing import Any

from zhiku.core.errors import Conflict, NotFound
from zhiku.core.names import check_workspace_name
from zhiku.store.common.base import SqlBackend
from zhiku.store.common.rows import kb_record
from zhiku.store.records import KnowledgeBase


class KnowledgeBaseSql(SqlBackend):
    """``KnowledgeBaseStore`` over ``self.db``."""

    def workspace_id(self, name: str = "default", *, create: bool = False) -> int:
        """The id of workspace ``name`` (created when ``create`` and missing). With ``create``,
        the name must pass ``check_workspace_name``, the rule every way of creating a workspace
        applies (checked first: PostgreSQL cannot even look up a name holding NUL)."""
        if create:
            check_workspace_name(name)
        row = self.db.conn.execute("SELECT id FROM workspaces WHERE name = ?", (name,)).fetchone()
        if row is not None:
            return int(row["id"])
        if not create:
            raise NotFound(f"workspace '{name}' does not exist")
        with self.db.write() as conn:
            row = conn.execute(
                "INSERT INTO workspaces (name) VALUES (?) ON CONFLICT (name) DO NOTHING "
                "RETURNING id",
                (name,),
            ).fetchone()
        return int(row[0]) if row is not None else self.workspace_id(name)

    def create_kb(
        self, workspace_id: int, name: str, embedder: str, settings: dict[str, Any]
    ) -> KnowledgeBase:
        """Create a knowledge base; ``Conflict`` when the name is taken in the workspace."""
        try:
            with self.db.write() as conn:
                row = conn.execute(
                    "INSERT INTO knowledge_bases (workspace_id, name, embedder, settings) "
                    "VALUES (?, ?, ?, ?) RETURNING id",
                    (workspace_id, name, embedder, json.dumps(settings)),
                ).fetchone()
        except self.db.IntegrityError as exc:
            raise Conflict(f"knowledge base '{name}' already exists") from exc
        return self.get_kb_by_id(int(row[0]))

    def get_kb(self, workspace_id: int, name: str) -> KnowledgeBase:
        """The knowledge base named ``name`` in the workspace, or ``NotFound``."""
        row = self.db.conn.execute(
            "SELECT * FROM knowledge_bases WHERE workspace_id = ? AND name = ?",
            (workspace_id, name),
        ).fetchone()
        if row is None:
            raise NotFound(f"knowledge base '{name}' does not exist")
        return kb_record(row)

    def get_kb_by_id(self, kb_id: int) -> KnowledgeBase:
        """The knowledge base with this id, or ``NotFound``."""
        row = self.db.conn.execute(
            "SELECT * FROM knowledge_bases WHERE id = ?", (kb_id,)
        ).fetchone()
        if row is None:
            raise NotFound(f"knowledge base {kb_id} does not exist")
        return kb_record(row)

    def list_kbs(self, workspace_id: int) -> list[KnowledgeBase]:
        """Every knowledge base of the workspace, by name."""
        rows = self.db.conn.execute(
            "SELECT * FROM knowledge_bases WHERE workspace_id = ? ORDER BY name", (workspace_id,)
        )
        return [kb_record(r) for r in rows]

    def update_kb(
        self, kb_id: int, *, embedder: str | None = None, settings: dict[str, Any] | None = None
    ) -> KnowledgeBase:
        """Change a knowledge base's embedder or settings."""
        with self.db.write() as conn:
            if embedder is not None:
                conn.execute(
                    "UPDATE knowledge_bases SET embedder = ? WHERE id = ?", (embedder, kb_id)
                )
            if settings is not None:
                conn.execute(
                    "UPDATE knowledge_bases SET settings = ? WHERE id = ?",
                    (json.dumps(settings), kb_id),
                )
        return self.get_kb_by_id(kb_id)

    def switch_embedder(self, kb_id: int, embedder: str) -> None:
        """Give a knowledge base another embedder and send its ready documents back to
        ``parsed``, in one transaction: they are ``ready`` again once embedded with it."""
        with self.db.write() as conn:
            conn.execute("UPDATE knowledge_bases SET embedder = ? WHERE id = ?", (embedder, kb_id))
            conn.execute(
                f"UPDATE documents SET status = 'parsed', updated_at = {self.db.now} "
                "WHERE kb_id = ? AND status = 'ready'", (kb_id,))

    def delete_kb(self, kb_id: int) -> None:
        """Delete a knowledge base with all its documents, chunks, terms and vectors."""
        with self.db.write() as conn:
            conn.execute("DELETE FROM knowledge_bases WHERE id = ?", (kb_id,))

    def kb_stats(self, kb_id: int) -> dict[str, int]:
        """Counts of documents by status, chunks and embedded chunks."""
        conn = self.db.conn
        stats = {"documents": 0, "ready": 0, "parsed": 0, "error": 0}
        for row in conn.execute(
            "SELECT status, count(*) n FROM documents WHERE kb_id = ? GROUP BY status", (kb_id,)
        ):
            stats[row["status"]] = row["n"]
            stats["documents"] += row["n"]
        stats["chunks"] = conn.execute(
            "SELECT count(*) FROM chunks WHERE kb_id = ? AND searchable = 1", (kb_id,)
        ).fetchone()[0]
        stats["embedded"] = conn.execute(
            "SELECT count(*) FROM embeddings e JOIN chunks c ON c.id = e.chunk_id "
            "WHERE c.kb_id = ?",
            (kb_id,),
        ).fetchone()[0]
        return stats
