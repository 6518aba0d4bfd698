"""The server backend: PostgreSQL with pgvector (HNSW, cosine) and full-text on pre-tokenized
terms, through a psycopg 3 connection pool."""
