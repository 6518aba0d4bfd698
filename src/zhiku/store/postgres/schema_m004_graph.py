"""PostgreSQL migration 4: the same tables as `store/sqlite/schema_m004_*`, in PostgreSQL's
dialect."""

from __future__ import annotations

M004_GRAPH = """
SELECT 1;  -- placeholder: being written
"""
