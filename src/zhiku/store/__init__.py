"""Storage: protocols, and one implementation per backend (SQLite embedded, PostgreSQL later)."""
