"""Migration 1: workspaces, knowledge bases, documents, chunks, embeddings and jobs.

Timestamps are ISO-8601 text, flags are 0/1 integers and JSON lives in text columns on both
backends, except ``documents.metadata``, which PostgreSQL keeps as JSONB with a GIN index for
search filters. Full text differs: SQLite indexes the analyzer's terms in the FTS5 table
``chunks_fts`` (``chunks_fts_vocab`` answers document frequencies); PostgreSQL keeps them in
``chunks`` itself, ``tsv`` (a tsvector with positions, so term frequencies stay exact for BM25)
and ``term_count`` (the chunk's length in terms), with ``chunk_stats`` holding each knowledge
base's indexed chunks and terms (BM25's N and average length), kept by statement triggers
whatever writes the chunks. Vectors are SQLite blobs; on PostgreSQL they are pgvector's
``vector`` without a fixed dimension, with partial expression HNSW indexes per (model,
dimension) created on first use (``store/postgres/vectors.py``).
"""

from __future__ import annotations

from zhiku.store.migrations.migration import Migration

POSTGRES_FIRST = """
CREATE EXTENSION IF NOT EXISTS vector;
DO $$ BEGIN  -- iterative index scans (filtered vector search) came with pgvector 0.8
    IF string_to_array((SELECT extversion FROM pg_extension WHERE extname = 'vector'), '.')::int[]
       < '{0,8}'::int[] THEN
        RAISE EXCEPTION 'Zhiku needs pgvector 0.8 or newer: ALTER EXTENSION vector UPDATE';
    END IF;
END $$;
"""

COMMON = """
CREATE TABLE workspaces (
    id {ID},
    name {TEXT_C} NOT NULL UNIQUE,
    created_at {TEXT_C} NOT NULL DEFAULT {NOW}
);
INSERT INTO workspaces (name) VALUES ('default');

CREATE TABLE knowledge_bases (
    id {ID},
    workspace_id {BIGINT} NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name {TEXT_C} NOT NULL,
    embedder TEXT NOT NULL,
    settings TEXT NOT NULL DEFAULT '{}',
    vector_version {BIGINT} NOT NULL DEFAULT 0,
    created_at {TEXT_C} NOT NULL DEFAULT {NOW},
    UNIQUE (workspace_id, name)
);

CREATE TABLE documents (
    id {ID_AUTOINCREMENT},
    kb_id {BIGINT} NOT NULL REFERENCES knowledge_bases(id) ON DELETE CASCADE,
    source {TEXT_C} NOT NULL,
    title TEXT,
    content_hash TEXT NOT NULL,
    format TEXT NOT NULL,
    size_bytes {BIGINT} NOT NULL DEFAULT 0,
    status TEXT NOT NULL CHECK (status IN ('parsed', 'ready', 'error')),
    error TEXT,
    chunk_count INTEGER NOT NULL DEFAULT 0,
    metadata {JSONB} NOT NULL DEFAULT '{}',
    created_at {TEXT_C} NOT NULL DEFAULT {NOW},
    updated_at {TEXT_C} NOT NULL DEFAULT {NOW},
    UNIQUE (kb_id, source)
);
CREATE INDEX documents_status ON documents (kb_id, status);

CREATE TABLE chunks (
    id {ID_AUTOINCREMENT},
    document_id {BIGINT} NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    kb_id {BIGINT} NOT NULL REFERENCES knowledge_bases(id) ON DELETE CASCADE,
    ord INTEGER NOT NULL,
    text TEXT NOT NULL,
    heading_path TEXT NOT NULL DEFAULT '[]',
    page INTEGER,
    token_count INTEGER NOT NULL,
    parent_id {BIGINT} REFERENCES chunks(id) ON DELETE CASCADE,
    searchable INTEGER NOT NULL DEFAULT 1,
    enabled INTEGER NOT NULL DEFAULT 1,
    metadata TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX chunks_document ON chunks (document_id, ord);
CREATE INDEX chunks_kb ON chunks (kb_id);
CREATE INDEX chunks_parent ON chunks (parent_id);

CREATE TABLE embeddings (
    chunk_id {BIGINT} NOT NULL REFERENCES chunks(id) ON DELETE CASCADE,
    model TEXT NOT NULL,
    dim INTEGER NOT NULL,
    vector {VECTOR} NOT NULL,
    PRIMARY KEY (chunk_id, model)
){WITHOUT_ROWID};
CREATE INDEX embeddings_model ON embeddings (model, chunk_id);

CREATE TABLE jobs (
    id {ID},
    kind TEXT NOT NULL,
    kb_id {BIGINT} REFERENCES knowledge_bases(id) ON DELETE CASCADE,
    payload TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'running', 'done', 'failed')),
    progress {REAL} NOT NULL DEFAULT 0,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at {TEXT_C} NOT NULL DEFAULT {NOW},
    updated_at {TEXT_C} NOT NULL DEFAULT {NOW}
);
CREATE INDEX jobs_status ON jobs (status, id);
"""

SQLITE = """
-- Pre-tokenized terms (jieba words + CJK bigrams + stemmed English), space separated.
CREATE VIRTUAL TABLE chunks_fts USING fts5 (
    terms, tokenize = 'unicode61 remove_diacritics 0'
);
CREATE VIRTUAL TABLE chunks_fts_vocab USING fts5vocab (chunks_fts, 'row');
CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN
    DELETE FROM chunks_fts WHERE rowid = old.id;
END;
"""

POSTGRES = """
CREATE INDEX documents_metadata ON documents USING gin (metadata jsonb_path_ops);
CREATE INDEX jobs_kb ON jobs (kb_id, id);

-- Full text: the analyzer's terms (jieba words + CJK bigrams + stemmed English) with their
-- positions; NULL for chunks that are not searchable (parent sections).
-- Keep the (compressed) terms in the row and move long texts out to TOAST instead: BM25 reads
-- the terms of every candidate, and a TOAST lookup per candidate costs a third of a search.
-- (The default is set apart from ADD COLUMN so that no "missing value" is stored for it.)
ALTER TABLE chunks
    ADD COLUMN tsv TSVECTOR,
    ADD COLUMN term_count INTEGER NOT NULL,
    ALTER COLUMN term_count SET DEFAULT 0,
    ALTER COLUMN tsv SET STORAGE MAIN;
CREATE INDEX chunks_tsv ON chunks USING gin (tsv);

-- BM25 corpus statistics per knowledge base: chunks with terms, and their terms in all.
CREATE TABLE chunk_stats (
    kb_id BIGINT PRIMARY KEY REFERENCES knowledge_bases(id) ON DELETE CASCADE,
    chunks BIGINT NOT NULL DEFAULT 0,
    terms BIGINT NOT NULL DEFAULT 0
);

CREATE FUNCTION zhiku_kb_stats_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO chunk_stats (kb_id) SELECT id FROM new_rows ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER knowledge_bases_stats AFTER INSERT ON knowledge_bases
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION zhiku_kb_stats_row();

CREATE FUNCTION zhiku_chunk_stats() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE chunk_stats s SET chunks = s.chunks + d.n, terms = s.terms + d.t
        FROM (SELECT kb_id, count(*) n, sum(term_count) t FROM new_rows
              WHERE tsv IS NOT NULL GROUP BY kb_id) d
        WHERE s.kb_id = d.kb_id;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE chunk_stats s SET chunks = s.chunks - d.n, terms = s.terms - d.t
        FROM (SELECT kb_id, count(*) n, sum(term_count) t FROM old_rows
              WHERE tsv IS NOT NULL GROUP BY kb_id) d
        WHERE s.kb_id = d.kb_id;
    ELSE
        UPDATE chunk_stats s SET chunks = s.chunks + d.n, terms = s.terms + d.t
        FROM (SELECT kb_id, sum(n) n, sum(t) t FROM (
                SELECT kb_id, 1 n, term_count t FROM new_rows WHERE tsv IS NOT NULL
                UNION ALL
                SELECT kb_id, -1, -term_count FROM old_rows WHERE tsv IS NOT NULL) x
              GROUP BY kb_id) d
        WHERE s.kb_id = d.kb_id AND (d.n <> 0 OR d.t <> 0);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER chunks_stats_insert AFTER INSERT ON chunks
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION zhiku_chunk_stats();
CREATE TRIGGER chunks_stats_delete AFTER DELETE ON chunks
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION zhiku_chunk_stats();
CREATE TRIGGER chunks_stats_update AFTER UPDATE ON chunks
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION zhiku_chunk_stats();
"""

MIGRATION = Migration(
    1,
    "core",
    common=COMMON,
    sqlite=SQLITE,
    postgres=POSTGRES,
    postgres_first=POSTGRES_FIRST,
)
