"""Workflows: stored, versioned graphs of typed nodes (retrieval, models, branches, tools)."""
