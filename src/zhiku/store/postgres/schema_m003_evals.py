"""PostgreSQL migration 3: the same tables as `store/sqlite/schema_m003_*`, in PostgreSQL's
dialect."""

from __future__ import annotations

M003_EVALS = """
SELECT 1;  -- placeholder: being written
"""
