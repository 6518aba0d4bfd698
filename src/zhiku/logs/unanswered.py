"""Refused questions, grouped: what the knowledge bases are missing (待补充问题).

Questions are grouped by their normalised text (case, width, punctuation and spacing folded),
so "年假几天？" and "年假几天" count together; then groups whose wordings are near-duplicates
(token-bigram Jaccard similarity of at least 0.7: "公司有没有远程办公政策" and
"公司有远程办公政策吗") are merged into the most asked. Each group keeps its latest wording and
reply, and up to five other wordings.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from zhiku.evals.metrics.answers import normalize_answer, tokens
from zhiku.logs.query import meta_like
from zhiku.store.db import Database

SCAN = 5000  # the latest refused replies looked at
SIMILAR = 0.7
MERGED = 2000  # the most asked groups compared for near-duplicates
VARIANTS = 5


@dataclass(slots=True)
class Unanswered:
    """One refused question and how often it was asked."""

    question: str
    count: int
    last_asked: str
    message_id: int
    assistant_ids: list[int] = field(default_factory=list)
    variants: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def unanswered(
    db: Database, workspace_id: int, *, assistant_ids: list[int] | None = None,
    since: str | None = None, limit: int = 100,
) -> list[Unanswered]:
    """Refused questions grouped by normalised text, most asked first (then most recent)."""
    sql = (
        "SELECT m.id, m.created_at, c.assistant_id, (SELECT q.content FROM messages q "
        "WHERE q.conversation_id = m.conversation_id AND q.id < m.id AND q.role = 'user' "
        "ORDER BY q.id DESC LIMIT 1) AS question FROM messages m "
        "JOIN conversations c ON c.id = m.conversation_id "
        "WHERE c.workspace_id = ? AND m.role = 'assistant' AND m.metadata LIKE ?"
    )
    args: list[Any] = [workspace_id, meta_like("refused", True)]
    if assistant_ids is not None:
        if not assistant_ids:
            return []
        sql += f" AND c.assistant_id IN ({', '.join('?' * len(assistant_ids))})"
        args.extend(assistant_ids)
    if since:
        sql += " AND m.created_at >= ?"
        args.append(since)
    rows = db.conn.execute(sql + " ORDER BY m.id DESC LIMIT ?", [*args, SCAN]).fetchall()
    groups: dict[str, Unanswered] = {}
    for r in rows:  # newest first: a group's first row is its latest
        text = str(r["question"] or "").strip()
        key = normalize_answer(text) or text
        if not key:
            continue
        group = groups.get(key)
        if group is None:
            group = groups[key] = Unanswered(text, 0, r["created_at"], int(r["id"]))
        group.count += 1
        if r["assistant_id"] and r["assistant_id"] not in group.assistant_ids:
            group.assistant_ids.append(int(r["assistant_id"]))
    # groups are in order of their latest question; a stable sort keeps it among equal counts
    ranked = sorted(groups.values(), key=lambda g: -g.count)
    return merge_similar(ranked[:MERGED])[:limit]


def shingles(text: str) -> set[str]:
    """Token bigrams of a question (a single token stands alone)."""
    toks = tokens(text)
    return {" ".join(toks[i:i + 2]) for i in range(max(1, len(toks) - 1))} if toks else set()


def merge_similar(groups: list[Unanswered]) -> list[Unanswered]:
    """Fold each group into an earlier (more asked) one whose wording is a near-duplicate."""
    kept: list[tuple[Unanswered, set[str]]] = []
    for g in groups:
        own = shingles(g.question)
        home = next((k for k, sh in kept if own and sh
                     and len(own & sh) / len(own | sh) >= SIMILAR), None)
        if home is None:
            kept.append((g, own))
            continue
        home.count += g.count
        if g.last_asked > home.last_asked:
            home.last_asked, home.message_id = g.last_asked, g.message_id
        if len(home.variants) < VARIANTS:
            home.variants.append(g.question)
        home.assistant_ids.extend(a for a in g.assistant_ids if a not in home.assistant_ids)
    return sorted((k for k, _ in kept), key=lambda g: -g.count)
