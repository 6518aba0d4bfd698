"""Eval sets of a workspace and their questions, stored in the workspace's database."""

from __future__ import annotations

import json
from collections.abc import Iterable

from zhiku.core.errors import Conflict, InvalidInput, NotFound
from zhiku.evals import withhold
from zhiku.evals.store import EvalStore
from zhiku.evals.types import EvalQuestion, EvalSet
from zhiku.store.db import Connection, Row
from zhiku.store.reader import Reader


def _question(row: Row) -> EvalQuestion:
    return EvalQuestion(
        id=row["id"],
        ext_id=row["ext_id"],
        question=row["question"],
        expected_sources=json.loads(row["expected_sources"]),
        expected_chunks={int(k): v for k, v in json.loads(row["expected_chunks"]).items()},
        reference_answers=json.loads(row["reference_answers"]),
        answerable=bool(row["answerable"]),
        tags=json.loads(row["tags"]),
        metadata=json.loads(row["metadata"]),
    )


def create_set(
    store: EvalStore,
    name: str,
    questions: Iterable[EvalQuestion],
    *,
    description: str = "",
    origin: str = "",
    replace: bool = False,
) -> EvalSet:
    """Store a new eval set (or replace one of the same name when ``replace``)."""
    if not name or len(name) > 128:
        raise InvalidInput("an eval set name is 1-128 characters")
    db = store.db
    try:
        with db.write() as conn:
            old = conn.execute(
                "SELECT id FROM eval_sets WHERE workspace_id = ? AND name = ?",
                (store.workspace_id, name),
            ).fetchone()
            if old is not None:
                if not replace:
                    raise Conflict(f"eval set '{name}' already exists")
                conn.execute("DELETE FROM eval_sets WHERE id = ?", (old[0],))
            set_id = int(conn.execute(
                "INSERT INTO eval_sets (workspace_id, name, description, origin) "
                "VALUES (?, ?, ?, ?) RETURNING id",
                (store.workspace_id, name, description, origin),
            ).fetchone()[0])
            add_questions(conn, set_id, questions)
    except db.IntegrityError as exc:  # created at the same moment by another process
        raise Conflict(f"eval set '{name}' already exists") from exc
    return get_set(store, name)


def add_questions(conn: Connection, set_id: int, questions: Iterable[EvalQuestion]) -> int:
    """Insert questions into a set inside the caller's transaction; ids default to their order."""
    rows = []
    seen: set[str] = set()
    for n, q in enumerate(questions, 1):
        if not q.question.strip():
            raise InvalidInput(f"question {q.ext_id or n} is empty")
        ext_id = q.ext_id or str(n)
        if ext_id in seen:
            raise InvalidInput(f"question id '{ext_id}' appears twice")
        seen.add(ext_id)
        rows.append((
            set_id, ext_id, q.question,
            json.dumps(q.expected_sources, ensure_ascii=False),
            json.dumps({str(k): v for k, v in q.expected_chunks.items()}),
            json.dumps(q.reference_answers, ensure_ascii=False), int(q.answerable),
            json.dumps(q.tags, ensure_ascii=False), json.dumps(q.metadata, ensure_ascii=False),
        ))
    conn.executemany(
        "INSERT INTO eval_questions (set_id, ext_id, question, expected_sources, expected_chunks, "
        "reference_answers, answerable, tags, metadata) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    return len(rows)


_SET_SQL = (
    "SELECT s.*, (SELECT count(*) FROM eval_questions q WHERE q.set_id = s.id) size "
    "FROM eval_sets s WHERE s.workspace_id = ?"
)


def _set(row: Row) -> EvalSet:
    return EvalSet(id=row["id"], name=row["name"], description=row["description"],
                   origin=row["origin"], created_at=row["created_at"], size=row["size"])


def get_set(store: EvalStore, name: str) -> EvalSet:
    """The eval set called ``name``."""
    row = store.db.conn.execute(
        _SET_SQL + " AND s.name = ?", (store.workspace_id, name)
    ).fetchone()
    if row is None:
        raise NotFound(f"eval set '{name}' does not exist")
    return _set(row)


def list_sets(store: EvalStore) -> list[EvalSet]:
    """Every eval set of the workspace, oldest first."""
    rows = store.db.conn.execute(_SET_SQL + " ORDER BY s.id", (store.workspace_id,))
    return [_set(r) for r in rows]


def questions(store: EvalStore, name: str, tags: Iterable[str] = ()) -> list[EvalQuestion]:
    """The questions of a set in import order, optionally only those carrying every tag."""
    eval_set = get_set(store, name)
    rows = store.db.conn.execute(
        "SELECT * FROM eval_questions WHERE set_id = ? ORDER BY id", (eval_set.id,)
    )
    wanted = set(tags)
    out = [_question(r) for r in rows]
    return [q for q in out if wanted <= set(q.tags)] if wanted else out


def questions_as(store: EvalStore, name: str, reader: Reader) -> list[EvalQuestion]:
    """The questions of a set as ``reader`` may see them: every one, in import order, those
    pointing at a document it may not read blanked (``zhiku.evals.withhold``)."""
    return withhold.shown_questions(store.passages, store.workspace_id,
                                    questions(store, name), reader)


def delete_set(store: EvalStore, name: str) -> None:
    """Delete an eval set and its questions (runs keep their results)."""
    eval_set = get_set(store, name)
    with store.db.write() as conn:
        conn.execute("DELETE FROM eval_sets WHERE id = ?", (eval_set.id,))
