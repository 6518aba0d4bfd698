"""Rows to records and back, on every backend: JSON columns may come back as text (SQLite, TEXT
columns) or already decoded (PostgreSQL JSONB)."""

from __future__ import annotations

import json
from typing import Any

from zhiku.store.db import Row
from zhiku.store.records import Chunk, Document, KnowledgeBase, NewChunk

# json.dumps(..., ensure_ascii=False) builds an encoder on every call; this one is built once
_dumps = json.JSONEncoder(ensure_ascii=False).encode

CHUNK_COLUMNS = (
    "id, document_id, kb_id, ord, text, heading_path, page, token_count, parent_id, searchable, "
    "enabled, metadata"
)

NEW_CHUNK_COLUMNS = (
    "document_id, kb_id, ord, text, heading_path, page, token_count, parent_id, searchable, "
    "metadata"
)


def json_value(value: Any) -> Any:
    """A JSON column's value: text is decoded, anything else is already decoded."""
    return json.loads(value) if isinstance(value, str) else value


def kb_record(row: Row) -> KnowledgeBase:
    """A ``knowledge_bases`` row as a record."""
    return KnowledgeBase(
        id=row["id"],
        workspace_id=row["workspace_id"],
        name=row["name"],
        embedder=row["embedder"],
        settings=json_value(row["settings"]),
        created_at=row["created_at"],
    )


def document_record(row: Row) -> Document:
    """A ``documents`` row as a record."""
    return Document(
        id=row["id"],
        kb_id=row["kb_id"],
        source=row["source"],
        title=row["title"],
        content_hash=row["content_hash"],
        format=row["format"],
        size_bytes=row["size_bytes"],
        status=row["status"],
        error=row["error"],
        chunk_count=row["chunk_count"],
        metadata=json_value(row["metadata"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        restricted=bool(row["restricted"]),
    )


def chunk_record(row: Row) -> Chunk:
    """A ``chunks`` row (at least ``CHUNK_COLUMNS``) as a record."""
    return Chunk(
        id=row["id"],
        document_id=row["document_id"],
        kb_id=row["kb_id"],
        ord=row["ord"],
        text=row["text"],
        heading_path=json_value(row["heading_path"]),
        page=row["page"],
        token_count=row["token_count"],
        parent_id=row["parent_id"],
        searchable=bool(row["searchable"]),
        enabled=bool(row["enabled"]),
        metadata=json_value(row["metadata"]),
    )


def new_chunk_row(
    chunk: NewChunk, *, doc_id: int, kb_id: int, parent_id: int | None
) -> tuple[Any, ...]:
    """The values of ``NEW_CHUNK_COLUMNS`` for a chunk about to be written."""
    return (
        doc_id,
        kb_id,
        chunk.ord,
        chunk.text,
        _dumps(chunk.heading_path),
        chunk.page,
        chunk.token_count,
        parent_id,
        int(chunk.searchable),
        _dumps(chunk.metadata),
    )
