"""Source rows as the target stores them, and both sides' rows as canonical bytes to checksum.

A checksum is the sha256 of every row in key order, each value length-prefixed in a canonical
form that does not depend on the backend: integers and floats as Python prints them (doubles
round-trip exactly), JSON re-serialised with sorted keys (JSONB reorders keys), blobs and
vectors as their bytes (vectors as little-endian float32). A chunk's full text is compared as
its set of lexemes (sorted by bytes, as a tsvector keeps them) plus its length in terms.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from zhiku.store.postgres import fts
from zhiku.store.transfer.columns import TablePlan

_PIECE = re.compile(r"[^\W_]+")  # fts.lexemes' pieces: never a quote or a backslash
_POSITIONS = [str(n) for n in range(fts.MAX_POSITION + 1)]
_LONGEST_SAFE = fts.MAX_LEXEME_BYTES // 4  # pieces up to this length never exceed the limit


def _lexemes(terms: str) -> list[str] | None:
    """``fts.lexemes(terms.split())`` in one pass over the FTS5 terms (space separated); None
    when a piece is long enough that fts.lexemes must decide."""
    words = _PIECE.findall(terms.lower())
    return None if any(len(w) > _LONGEST_SAFE for w in words) else words


def fulltext(terms: str | None) -> tuple[str | None, int]:
    """A chunk's ``tsv`` literal and ``term_count`` from its FTS5 terms (None: not indexed):
    what ``fts.tsvector_literal`` makes of them (a test holds the two equal), several times
    faster, which matters at a million chunks."""
    if terms is None:
        return None, 0
    words = _lexemes(terms)
    if words is None:
        return fts.tsvector_literal(terms.split())
    positions: dict[str, list[str]] = {}
    cap = fts.MAX_POSITION
    for n, word in enumerate(words, start=1):
        at = _POSITIONS[n if n < cap else cap]
        seen = positions.get(word)
        if seen is None:
            positions[word] = [at]
        else:
            seen.append(at)
    return " ".join(["'" + w + "':" + ",".join(p) for w, p in positions.items()]), len(words)


def lexeme_set(terms: str | None) -> tuple[str | None, int]:
    """What the checksum compares of a chunk's full text: its distinct lexemes in tsvector
    order (bytewise) and its length in terms, from its FTS5 terms."""
    if terms is None:
        return None, 0
    words = _lexemes(terms)
    if words is None:
        words = fts.lexemes(terms.split())
    return " ".join(sorted(set(words), key=str.encode)), len(words)


def to_target(plan: TablePlan, row: Sequence[Any]) -> tuple[Any, ...]:
    """One source row as COPY values for ``plan.target_columns``."""
    values: list[Any] = []
    for column, value in zip(plan.columns, row, strict=False):
        if value is None:
            values.append(None)
        elif column.kind == "vector":
            values.append(_vector_binary(value))
        elif column.kind == "json" and not isinstance(value, str):
            values.append(json.dumps(value, ensure_ascii=False))
        elif column.kind == "bytes" and isinstance(value, str):
            values.append(value.encode())
        else:
            values.append(value)
    if plan.derived:
        values.extend(fulltext(row[len(plan.columns)]))
    return tuple(values)


def _vector_binary(blob: bytes) -> bytes:
    """A float32 BLOB in pgvector's binary input format (dimension, zero, big-endian floats)."""
    vec = np.frombuffer(blob, dtype="<f4")
    return np.array([vec.shape[0], 0], dtype=">u2").tobytes() + vec.astype(">f4").tobytes()


def canonical(value: Any, kind: str) -> bytes:
    """One value in its backend-independent form."""
    if value is None:
        return b"\x00"
    if kind == "int":
        text = str(int(value))
    elif kind == "float":
        text = repr(float(value))
    elif kind == "json":
        text = _json(value)
    elif kind in ("bytes", "vector"):
        return b"b" + _bytes(value, kind)
    else:
        text = value if isinstance(value, str) else str(value)
    return b"s" + text.encode("utf-8", "surrogatepass")


def _json(value: Any) -> str:
    if isinstance(value, str | bytes):
        try:
            value = json.loads(value)
        except ValueError:
            return "!" + (value if isinstance(value, str) else value.decode("utf-8", "replace"))
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _bytes(value: Any, kind: str) -> bytes:
    if isinstance(value, np.ndarray):
        return value.astype("<f4").tobytes()
    if isinstance(value, str):
        return value.encode()
    return bytes(value)


class Checksum:
    """sha256 over canonical rows, with the row count."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self.rows = 0

    def add(self, values: Sequence[Any], kinds: Sequence[str]) -> None:
        """Add one row (values and their kinds, in the same order)."""
        update = self._hash.update
        for value, kind in zip(values, kinds, strict=True):
            data = canonical(value, kind)
            update(len(data).to_bytes(8, "little"))
            update(data)
        self.rows += 1

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def digest_kinds(plan: TablePlan) -> list[str]:
    """The kinds of the values a checksummed row holds (chunks add their lexemes and length)."""
    kinds = [c.kind for c in plan.columns]
    return [*kinds, "text", "int"] if plan.derived else kinds


def source_digest_row(plan: TablePlan, row: Sequence[Any]) -> Sequence[Any]:
    """A source row as checksummed (chunks: the FTS5 terms become lexemes and length)."""
    if not plan.derived:
        return row
    return (*row[: len(plan.columns)], *lexeme_set(row[len(plan.columns)]))
