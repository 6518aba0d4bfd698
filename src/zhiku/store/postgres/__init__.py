"""The server backend: PostgreSQL with pgvector (HNSW, cosine) and full-text on pre-tokenized
terms, through a psycopg 3 connection pool (the ``postgres`` extra)."""

from zhiku.core.extras import require_extra

require_extra("postgres", "PostgreSQL (ZHIKU_DATABASE_URL)")
