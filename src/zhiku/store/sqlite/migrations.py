"""Numbered schema migrations for the SQLite backend, tracked in ``PRAGMA user_version``."""

from __future__ import annotations

import sqlite3

from zhiku.store.sqlite.schema_m002_llm import M002_LLM
from zhiku.store.sqlite.schema_m003_evals import M003_EVALS
from zhiku.store.sqlite.schema_m004_graph import M004_GRAPH
from zhiku.store.sqlite.schema_m005_api import M005_API
from zhiku.store.sqlite.schema_m006_keyword import M006_KEYWORD
from zhiku.store.sqlite.schema_m007_queue import M007_QUEUE
from zhiku.store.sqlite.schema_m008_term_stats import M008_TERM_STATS
from zhiku.store.sqlite.schema_m009_conversation_owner import M009_CONVERSATION_OWNER
from zhiku.store.sqlite.schema_m010_invitations import M010_INVITATIONS
from zhiku.store.sqlite.schema_m011_workflows import M011_WORKFLOWS
from zhiku.store.sqlite.schema_m012_agents import M012_AGENTS

# Each migration is one SQL script, run in one transaction together with the version bump.
M001_CORE = """
CREATE TABLE workspaces (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
INSERT INTO workspaces (name) VALUES ('default');

CREATE TABLE knowledge_bases (
    id INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    embedder TEXT NOT NULL,
    settings TEXT NOT NULL DEFAULT '{}',
    vector_version INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (workspace_id, name)
);

CREATE TABLE documents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kb_id INTEGER NOT NULL REFERENCES knowledge_bases(id) ON DELETE CASCADE,
    source TEXT NOT NULL,
    title TEXT,
    content_hash TEXT NOT NULL,
    format TEXT NOT NULL,
    size_bytes INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL CHECK (status IN ('parsed', 'ready', 'error')),
    error TEXT,
    chunk_count INTEGER NOT NULL DEFAULT 0,
    metadata TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (kb_id, source)
);
CREATE INDEX documents_status ON documents (kb_id, status);

CREATE TABLE chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    kb_id INTEGER NOT NULL REFERENCES knowledge_bases(id) ON DELETE CASCADE,
    ord INTEGER NOT NULL,
    text TEXT NOT NULL,
    heading_path TEXT NOT NULL DEFAULT '[]',
    page INTEGER,
    token_count INTEGER NOT NULL,
    parent_id INTEGER REFERENCES chunks(id) ON DELETE CASCADE,
    searchable INTEGER NOT NULL DEFAULT 1,
    enabled INTEGER NOT NULL DEFAULT 1,
    metadata TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX chunks_document ON chunks (document_id, ord);
CREATE INDEX chunks_kb ON chunks (kb_id);
CREATE INDEX chunks_parent ON chunks (parent_id);

-- Pre-tokenized terms (jieba words + CJK bigrams + stemmed English), space separated.
CREATE VIRTUAL TABLE chunks_fts USING fts5 (
    terms, tokenize = 'unicode61 remove_diacritics 0'
);
CREATE VIRTUAL TABLE chunks_fts_vocab USING fts5vocab (chunks_fts, 'row');
CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN
    DELETE FROM chunks_fts WHERE rowid = old.id;
END;

CREATE TABLE embeddings (
    chunk_id INTEGER NOT NULL REFERENCES chunks(id) ON DELETE CASCADE,
    model TEXT NOT NULL,
    dim INTEGER NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (chunk_id, model)
) WITHOUT ROWID;
CREATE INDEX embeddings_model ON embeddings (model, chunk_id);

CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    kb_id INTEGER REFERENCES knowledge_bases(id) ON DELETE CASCADE,
    payload TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'running', 'done', 'failed')),
    progress REAL NOT NULL DEFAULT 0,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX jobs_status ON jobs (status, id);
"""

MIGRATIONS: list[str] = [
    M001_CORE,
    M002_LLM,
    M003_EVALS,
    M004_GRAPH,
    M005_API,
    M006_KEYWORD,
    M007_QUEUE,
    M008_TERM_STATS,
    M009_CONVERSATION_OWNER,
    M010_INVITATIONS,
    M011_WORKFLOWS,
    M012_AGENTS,
]


def migrate(db: sqlite3.Connection, migrations: list[str] | None = None) -> int:
    """Apply every migration newer than the database's ``user_version``; return the new version.

    Each script runs with its version bump in one ``BEGIN IMMEDIATE`` transaction, so a crash
    leaves the database at the previous version, and concurrent processes migrate once.
    """
    steps = MIGRATIONS if migrations is None else migrations
    for number, script in enumerate(steps, start=1):
        if _version(db) >= number:
            continue
        try:
            db.executescript(
                f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;"
            )
        except sqlite3.OperationalError as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            # Lost a race with another process that applied the same migration first.
            if "already exists" in str(exc) and _version(db) >= number:
                continue
            raise
    return _version(db)


def _version(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])
