"""Document-level permissions: a workspace's groups of readers (users and API keys), the
documents and sources restricted to them, and the reader scope every retrieval path applies
(docs/permissions.md)."""
