"""The bookkeeping of vectors, in SQL both backends run as is (storing and loading them is
backend-specific)."""

from __future__ import annotations

from zhiku.core.errors import NotFound
from zhiku.store.common.base import SqlBackend
from zhiku.store.common.rows import json_value
from zhiku.text.indexing import index_text


class VectorSql(SqlBackend):
    """Part of ``VectorStore`` over ``self.db``."""

    def chunks_missing_vectors(
        self, kb_id: int, model: str, *, after_id: int = 0, limit: int = 10_000,
        parsed_only: bool = False, document_id: int | None = None,
    ) -> list[tuple[int, int, str]]:
        """``(chunk_id, document_id, text to embed)`` of searchable chunks without a vector for
        ``model``, by id, starting after ``after_id`` (for paging); the text is ``index_text``
        (heading path, then text). ``parsed_only`` looks in documents still ``parsed`` only
        (the only ones missing vectors of the knowledge base's own model), which is cheap
        however large the knowledge base; ``document_id`` in that document only."""
        scope = (
            "JOIN documents d ON d.id = c.document_id AND d.kb_id = c.kb_id "
            "AND d.status = 'parsed' " if parsed_only else ""
        )
        one_doc = "AND c.document_id = ? " if document_id is not None else ""
        args = (kb_id, *(() if document_id is None else (document_id,)), after_id, model, limit)
        rows = self.db.conn.execute(
            f"SELECT c.id, c.document_id, c.text, c.heading_path FROM chunks c {scope}"
            f"WHERE c.kb_id = ? {one_doc}AND c.id > ? "
            "AND c.searchable = 1 AND NOT EXISTS (SELECT 1 FROM embeddings e "
            "WHERE e.chunk_id = c.id AND e.model = ?) ORDER BY c.id LIMIT ?",
            args,
        )
        return [(r[0], r[1], index_text(json_value(r[3]) or [], r[2])) for r in rows]

    def drop_vectors(self, kb_id: int, model: str) -> None:
        """Delete a knowledge base's vectors of one model (after switching models)."""
        with self.db.write() as conn:
            conn.execute(
                "DELETE FROM embeddings WHERE model = ? AND chunk_id IN "
                "(SELECT id FROM chunks WHERE kb_id = ?)",
                (model, kb_id),
            )
            self._bump_vector_version(conn, kb_id)

    def vector_version(self, kb_id: int) -> int:
        """A counter that changes whenever the knowledge base's vectors change."""
        row = self.db.conn.execute(
            f"SELECT {self._VECTOR_VERSION} FROM knowledge_bases k WHERE k.id = ?", (kb_id,)
        ).fetchone()
        if row is None:
            raise NotFound(f"knowledge base {kb_id} does not exist")
        return int(row[0])
