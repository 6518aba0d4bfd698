"""What a stored scorecard was measured on: a configuration, a set with run options, a corpus.

A scorecard is reused only while all three hashes are unchanged, so a run made before a
knowledge base changed (documents, chunk edits, embedder, settings) or before Zhiku was
upgraded is never compared with one made after.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel

from zhiku import __version__
from zhiku.evals.runs import RunOptions
from zhiku.evals.types import EvalQuestion
from zhiku.store.db import Database
from zhiku.store.records import KnowledgeBase


def _digest(data: Any) -> str:
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def config_hash(config: BaseModel) -> str:
    """The configuration that answers (an assistant's or agent's settings, a workflow's
    definition)."""
    return _digest(config.model_dump(mode="json"))


def set_hash(questions: Sequence[EvalQuestion], options: RunOptions) -> str:
    """The set's questions (with what they expect) and how the run questions them."""
    return _digest({
        "questions": [q.to_dict() for q in questions],
        "options": {"top_k": options.top_k, "ks": options.cutoffs(),
                    "with_answer": options.with_answer, "tags": list(options.tags)},
    })


def corpus_hash(db: Database, kb: Callable[[str], KnowledgeBase], names: Sequence[str]) -> str:
    """The state of the knowledge bases ``names`` and Zhiku's version: each one's embedder,
    settings and vector version, its documents (count, last change) and chunks (count, newest
    id, total length, enabled count)."""
    state: list[Any] = [__version__]
    conn = db.conn
    for name in sorted(set(names)):
        found = kb(name)
        row = conn.execute(
            "SELECT k.vector_version, "
            "(SELECT count(*) FROM documents d WHERE d.kb_id = k.id), "
            "(SELECT max(d.updated_at) FROM documents d WHERE d.kb_id = k.id), "
            "(SELECT count(*) FROM chunks c WHERE c.kb_id = k.id), "
            "(SELECT max(c.id) FROM chunks c WHERE c.kb_id = k.id), "
            "(SELECT sum(length(c.text)) FROM chunks c WHERE c.kb_id = k.id), "
            "(SELECT sum(c.enabled) FROM chunks c WHERE c.kb_id = k.id) "
            "FROM knowledge_bases k WHERE k.id = ?",
            (found.id,),
        ).fetchone()
        state.append([found.id, found.embedder, found.settings,
                      [None if v is None else str(v) for v in row]])
    return _digest(state)
