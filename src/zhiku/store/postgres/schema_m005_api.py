"""PostgreSQL migration 5: the same tables as `store/sqlite/schema_m005_*`, in PostgreSQL's
dialect."""

from __future__ import annotations

M005_API = """
SELECT 1;  -- placeholder: being written
"""
