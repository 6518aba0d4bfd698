"""Migration 16: reserved for a part built beside the audit log (this placeholder keeps the
numbers one by one on its own; the part's real migration replaces it)."""

from __future__ import annotations

from zhiku.store.migrations.migration import Migration

MIGRATION = Migration(16, "reserved", common="SELECT 1;\n")
