"""PostgreSQL migration 2: the same tables as `store/sqlite/schema_m002_*`, in PostgreSQL's
dialect."""

from __future__ import annotations

M002_LLM = """
SELECT 1;  -- placeholder: being written
"""
