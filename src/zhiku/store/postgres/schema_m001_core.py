"""PostgreSQL migration 1: the same tables as `store/sqlite/schema_m001_*`, in PostgreSQL's
dialect."""

from __future__ import annotations

M001_CORE = """
SELECT 1;  -- placeholder: being written
"""
