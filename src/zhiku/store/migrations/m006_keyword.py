"""Migration 6: a change counter for SQLite's in-memory keyword index (``keyword_memory.py``).

Appends are seen through ``max(chunks.id)``; every other change to indexed rows bumps the
counter, so a derived index knows it must be rebuilt. PostgreSQL ranks inside the database and
needs none.
"""

from __future__ import annotations

from zhiku.store.migrations.migration import Migration

SQLITE = """
CREATE TABLE keyword_generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    generation INTEGER NOT NULL
);
INSERT INTO keyword_generation (id, generation) VALUES (1, 0);
CREATE TRIGGER chunks_keyword_delete AFTER DELETE ON chunks BEGIN
    UPDATE keyword_generation SET generation = generation + 1 WHERE id = 1;
END;
CREATE TRIGGER chunks_keyword_update AFTER UPDATE OF text, enabled, searchable, kb_id ON chunks
BEGIN
    UPDATE keyword_generation SET generation = generation + 1 WHERE id = 1;
END;
"""

MIGRATION = Migration(6, "keyword", sqlite=SQLITE)
