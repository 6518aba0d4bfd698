"""Corrections: an admin's fixed answer to a logged question becomes an FAQ entry in a knowledge
base (searchable at once) and/or a question of an eval set.

Each correction is its own document, ``corrections/message-<id>.csv``: one FAQ row (question,
answer, source message), which the spreadsheet parser turns into one FAQ pair, so the question
is what search matches and question plus answer is what comes back. Correcting the same message
again replaces its document.

The FAQ restates what the reply cited, so it is read by no one who could not read that: it is
restricted like the restricted documents the reply cited (``zhiku.logs.cited_groups``), unless
the caller names its groups.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from zhiku.core.errors import InvalidInput, NotFound
from zhiku.evals import sets
from zhiku.evals.types import EvalQuestion, cited, source_names
from zhiku.ingest.pipeline import SourceItem
from zhiku.logs.cited_groups import inherited_groups

if TYPE_CHECKING:
    from zhiku.service import Zhiku


@dataclass(slots=True)
class Correction:
    """What a correction made: the FAQ document (``groups``: the groups that may read it,
    None: everyone in the workspace) and/or the eval question."""

    message_id: int
    question: str
    answer: str
    kb: str | None = None
    document_id: int | None = None
    source: str | None = None
    groups: list[int] | None = None
    eval_set: str | None = None
    eval_question: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def faq_csv(question: str, answer: str, message_id: int) -> bytes:
    """One FAQ row with its header (``question``, ``answer``, ``source_message``)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["question", "answer", "source_message"])
    writer.writerow([question, answer, str(message_id)])
    return out.getvalue().encode("utf-8")


def source_of(message_id: int) -> str:
    """The document source a correction of ``message_id`` is stored under."""
    return f"corrections/message-{message_id}.csv"


def correct(
    zk: Zhiku, message_id: int, answer: str, *, kb: str | None = None,
    eval_set: str | None = None, expected_source: str | None = None,
    groups: Sequence[int | str] | None = None,
) -> Correction:
    """Store ``answer`` as the fix of reply ``message_id``: an FAQ document in ``kb`` and/or a
    question in ``eval_set`` (created if missing; the reply's cited sources kept in its
    metadata as ``cited_sources``, for withholding only); the correction is also kept as the
    reply's feedback (rated down, with the corrected answer).

    The FAQ document is restricted from its first write to ``groups`` (ids or names, each
    must exist; an empty list: administrators only), or, when None, to the groups inherited
    from the restricted documents the reply cited (nothing restricted cited: a new document
    is unrestricted, a replaced one keeps its restriction). A restriction it gets is
    audit-logged as ``document.groups``."""
    text = answer.strip()
    if not text:
        raise InvalidInput("the corrected answer is empty")
    if kb is None and eval_set is None:
        raise InvalidInput("name a knowledge base, an eval set, or both")
    if groups is not None and kb is None:
        raise InvalidInput("groups restrict the FAQ entry: name its knowledge base")
    reply = zk.message(message_id)
    if reply.role != "assistant":
        raise NotFound(f"message {message_id} does not exist")
    question = zk.llm.conversations.question_of(reply).strip()
    if not question:
        raise InvalidInput(f"message {message_id} answers no question")
    restrict: list[int] | None = None
    if kb is not None:
        target = zk.kb(kb)  # NotFound before anything is written
        restrict = (zk.permissions.resolve(groups) if groups is not None
                    else inherited_groups(zk, reply.citations))
    out = Correction(message_id, question, text)
    if kb is not None:
        out.kb, out.source = kb, source_of(message_id)
        item = SourceItem(out.source, data=faq_csv(question, text, message_id),
                          metadata={"correction": True, "question": question, "answer": text,
                                    "source_message": message_id},
                          groups=None if restrict is None else tuple(restrict))
        zk.ingest_items(kb, [item])
        doc = zk.store.find_document(target.id, out.source)
        if doc is None:
            raise NotFound(f"document '{out.source}' was not written")
        out.document_id, out.groups = doc.id, zk.permissions.groups_of(doc)
        if restrict is not None:
            zk.audit("document.groups", "document", doc.id, doc.source,
                     detail={"kb": kb, "groups": restrict, "correction": message_id,
                             "inherited": groups is None})
    if eval_set is not None:
        out.eval_set = eval_set
        out.eval_question = add_eval_question(zk, eval_set, EvalQuestion(
            question=question, ext_id=f"message-{message_id}",
            expected_sources={expected_source: 1} if expected_source else {},
            reference_answers=[text],
            metadata={"message_id": message_id,
                      **cited(source_names(reply.citations))},
        ))
    zk.rate_reply(message_id, "down", corrected_answer=text)
    return out


def add_eval_question(zk: Zhiku, eval_set: str, q: EvalQuestion) -> str:
    """Add ``q`` to ``eval_set`` (created when missing), replacing a question with the same
    id; returns that id."""
    store = zk.evals
    try:
        found = sets.get_set(store, eval_set)
    except NotFound:
        sets.create_set(store, eval_set, [q], origin="corrections")
        return q.ext_id
    with store.db.write() as conn:
        conn.execute("DELETE FROM eval_questions WHERE set_id = ? AND ext_id = ?",
                     (found.id, q.ext_id))
        sets.add_questions(conn, found.id, [q])
    return q.ext_id
