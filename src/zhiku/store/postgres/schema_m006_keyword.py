"""PostgreSQL migration 6: nothing. SQLite's migration 6 adds the change counter of its
in-memory keyword index; PostgreSQL ranks inside the database and needs none. The number is
kept so both backends count migrations the same way."""

from __future__ import annotations

M006_KEYWORD = """
SELECT 1;
"""
