"""The part of a store whose SQL is the same on every backend (see ``store/db.py``); each
backend subclasses ``SqlStore`` and adds full-text terms, vectors and its own fast paths."""

from __future__ import annotations

from zhiku.store.common.chunks import ChunkSql
from zhiku.store.common.documents import DocumentSql
from zhiku.store.common.knowledge_bases import KnowledgeBaseSql
from zhiku.store.common.vectors import VectorSql


class SqlStore(KnowledgeBaseSql, DocumentSql, ChunkSql, VectorSql):
    """Workspaces, knowledge bases, documents, chunks, vector bookkeeping, jobs and who may
    read each document."""


__all__ = ["SqlStore"]
