"""What a restored (or backed-up) database must satisfy, on either backend: every chunk's
document, every vector's chunk and every document's knowledge base exist."""

from __future__ import annotations

from zhiku.core.errors import ZhikuError
from zhiku.store.db import Connection

ORPHANS = {
    "chunks without their document":
        "SELECT count(*) FROM chunks c WHERE NOT EXISTS "
        "(SELECT 1 FROM documents d WHERE d.id = c.document_id)",
    "vectors without their chunk":
        "SELECT count(*) FROM embeddings e WHERE NOT EXISTS "
        "(SELECT 1 FROM chunks c WHERE c.id = e.chunk_id)",
    "documents without their knowledge base":
        "SELECT count(*) FROM documents d WHERE NOT EXISTS "
        "(SELECT 1 FROM knowledge_bases k WHERE k.id = d.kb_id)",
}
COUNTED = ("workspaces", "users", "knowledge_bases", "documents", "chunks", "embeddings",
           "originals", "assistants", "conversations", "audit_log")


def counts(conn: Connection) -> dict[str, int]:
    """Rows per table of the tables a restore is compared by."""
    return {t: int(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in COUNTED}


def check(conn: Connection) -> None:
    """Raise a ``ZhikuError`` naming what does not hold together."""
    problems = []
    for what, sql in ORPHANS.items():
        found = int(conn.execute(sql).fetchone()[0])
        if found:
            problems.append(f"{found} {what}")
    if problems:
        raise ZhikuError("the restored database is inconsistent: " + "; ".join(problems))
