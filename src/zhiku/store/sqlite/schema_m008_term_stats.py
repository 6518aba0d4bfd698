"""Migration 8: nothing. PostgreSQL's migration 8 keeps document frequencies per knowledge base
and lexeme at write time; SQLite's FTS5 answers them from its own index (``chunks_fts_vocab``).
The number is kept so both backends count migrations the same way."""

from __future__ import annotations

M008_TERM_STATS = """
SELECT 1;
"""
