"""Edits the core facade does not offer yet: document metadata, chunk text and enablement.

Each edit keeps the derived data consistent in the same transaction: new full-text terms for new
text, the old vector dropped (an ``embed`` job makes the new one), the vector index version
bumped so cached matrices reload.
"""

from __future__ import annotations

import json
from typing import Any

from zhiku.store.db import Database
from zhiku.store.protocols import Store
from zhiku.store.records import Chunk
from zhiku.text.indexing import index_text
from zhiku.text.tokenize import analyze
from zhiku.text.tokens import count_tokens


def set_document_metadata(db: Database, doc_id: int, metadata: dict[str, Any]) -> None:
    """Replace a document's metadata (tags live under ``metadata["tags"]``)."""
    with db.write() as conn:
        conn.execute(
            f"UPDATE documents SET metadata = ?, updated_at = {db.now} WHERE id = ?",
            (json.dumps(metadata, ensure_ascii=False), doc_id),
        )


def set_chunk_text(store: Store, chunk: Chunk, text: str) -> None:
    """New text for a chunk: terms re-indexed now, its vector re-made by an embed job."""
    terms = analyze(index_text(chunk.heading_path, text)) if chunk.searchable else []
    store.update_chunk_text(chunk.id, text, token_count=count_tokens(text), terms=terms)


def set_chunk_enabled(db: Database, chunk: Chunk, enabled: bool) -> None:
    """Disable (or re-enable) a chunk; disabled chunks never come back from search."""
    with db.write() as conn:
        conn.execute("UPDATE chunks SET enabled = ? WHERE id = ?", (int(enabled), chunk.id))
        conn.execute(
            "UPDATE knowledge_bases SET vector_version = vector_version + 1 WHERE id = ?",
            (chunk.kb_id,),
        )
