"""Original bytes of uploaded and fetched files, kept by content hash for download and re-index."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from zhiku.core.errors import NotFound
from zhiku.store.db import Connection, Database


@dataclass(frozen=True, slots=True)
class Original:
    """One stored file."""

    sha256: str
    content_type: str
    data: bytes


def digest(data: bytes) -> str:
    """The content hash the pipeline records as ``documents.content_hash``."""
    return hashlib.sha256(data).hexdigest()


def put(conn: Connection, data: bytes, content_type: str) -> str:
    """Store ``data`` (inside the caller's write transaction); returns its hash."""
    sha = digest(data)
    conn.execute(
        "INSERT INTO originals (sha256, size_bytes, content_type, data) "
        "VALUES (?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING",
        (sha, len(data), content_type or "application/octet-stream", data),
    )
    return sha


def get(db: Database, sha: str) -> Original:
    """The stored file with this hash, or ``NotFound``."""
    row = db.conn.execute(
        "SELECT sha256, content_type, data FROM originals WHERE sha256 = ?", (sha,)
    ).fetchone()
    if row is None:
        raise NotFound("the original file is not stored")
    return Original(row[0], row[1], bytes(row[2]))


def stored(db: Database, shas: Sequence[str]) -> set[str]:
    """Which of ``shas`` have their file stored."""
    found: set[str] = set()
    for start in range(0, len(shas), 500):
        part = list(shas[start:start + 500])
        marks = ",".join("?" * len(part))
        found.update(r[0] for r in db.conn.execute(
            f"SELECT sha256 FROM originals WHERE sha256 IN ({marks})", part))
    return found


def collect(db: Database, sha: str) -> None:
    """Delete a stored file once no document and no unfinished job refers to it."""
    with db.write() as conn:
        conn.execute(
            "DELETE FROM originals WHERE sha256 = ? AND NOT EXISTS "
            "(SELECT 1 FROM documents WHERE content_hash = ?) AND NOT EXISTS "
            "(SELECT 1 FROM jobs WHERE status IN ('queued', 'running') "
            "AND CAST(payload AS TEXT) LIKE ?)",
            (sha, sha, f"%{sha}%"),
        )
