"""Conversations and messages. A turn (question and answer) is written in one
transaction, after the answer is complete, so a failed call never leaves half a message.

A conversation started over the HTTP API records its owner: the signed-in user or the API key
that started it. The CLI and the Python API start conversations without an owner."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from zhiku.core.errors import NotFound
from zhiku.models.llm.types import Message
from zhiku.store.db import Database, Row

_COLUMNS = ("id, assistant_id, title, user_id, key_id, channel, share_link_id, external_user, "
            "external_name, visitor, created_at, updated_at")


@dataclass(frozen=True, slots=True)
class Owner:
    """Who started a conversation: a user or an API key (both None: the CLI or Python API),
    or a visitor of a share link: its ``channel`` (``share`` or ``widget``), the link, the
    visitor session and the external user id (and display name) of a signed identity."""

    user_id: int | None = None
    key_id: int | None = None
    channel: str | None = None
    share_link_id: int | None = None
    visitor: str | None = None
    external_user: str | None = None
    external_name: str | None = None


LINK_CHANNELS = frozenset({"share", "widget"})
"""The channels a conversation belongs to for good: a share link's page, an embedded widget."""


def conversation_channel(stored: str | None, reply_channels: Sequence[str]) -> str:
    """The one view of where a conversation came from. A share link's or widget's
    conversation says so on its row (``conversations.channel``, written with the link when
    the conversation is made: the source of truth); any other is known by the face its first
    reply came through (each reply's metadata ``channel``: ``chat``, ``openai``, ``apps``,
    ``local``, …), and is ``local`` before it has one."""
    if stored is not None and stored in LINK_CHANNELS:
        return stored
    return reply_channels[0] if reply_channels else "local"


@dataclass(slots=True)
class StoredMessage:
    """One message as stored."""

    id: int
    conversation_id: int
    role: str
    content: str
    reasoning: str = ""
    citations: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    created_at: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


class ConversationStore:
    """Conversations of one workspace."""

    def __init__(self, db: Database, workspace_id: int) -> None:
        self._db = db
        self._ws = workspace_id

    def create(
        self, assistant_id: int | None, title: str | None = None, owner: Owner | None = None
    ) -> int:
        """A new, empty conversation, owned by ``owner`` (none: started locally)."""
        who = owner or Owner()
        with self._db.write() as conn:
            row = conn.execute(
                "INSERT INTO conversations (workspace_id, assistant_id, title, user_id, key_id, "
                "channel, share_link_id, visitor, external_user, external_name) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (self._ws, assistant_id, (title or "")[:200] or None, who.user_id, who.key_id,
                 who.channel, who.share_link_id, who.visitor, who.external_user,
                 who.external_name),
            ).fetchone()
            return int(row[0])

    def delete(self, conversation_id: int) -> None:
        """Remove a conversation and its messages."""
        with self._db.write() as conn:
            conn.execute(
                "DELETE FROM conversations WHERE id = ? AND workspace_id = ?",
                (conversation_id, self._ws),
            )

    def require(self, conversation_id: int) -> int:
        """The assistant id of an existing conversation (NotFound otherwise)."""
        row = self._db.conn.execute(
            "SELECT assistant_id FROM conversations WHERE id = ? AND workspace_id = ?",
            (conversation_id, self._ws),
        ).fetchone()
        if row is None:
            raise NotFound(f"conversation {conversation_id} does not exist")
        return int(row[0] or 0)

    def get(self, conversation_id: int) -> dict[str, Any]:
        """One conversation: id, assistant_id, title, its owner's user_id and key_id, the
        channel, share_link_id, external_user, external_name and visitor of a share link's,
        created_at, updated_at (or NotFound)."""
        row = self._db.conn.execute(
            f"SELECT {_COLUMNS} FROM conversations WHERE id = ? AND workspace_id = ?",
            (conversation_id, self._ws),
        ).fetchone()
        if row is None:
            raise NotFound(f"conversation {conversation_id} does not exist")
        return dict(row)

    def message(self, message_id: int) -> StoredMessage:
        """One message of this workspace (NotFound otherwise)."""
        row = self._db.conn.execute(
            "SELECT m.* FROM messages m JOIN conversations c ON c.id = m.conversation_id "
            "WHERE m.id = ? AND c.workspace_id = ?",
            (message_id, self._ws),
        ).fetchone()
        if row is None:
            raise NotFound(f"message {message_id} does not exist")
        return _stored(row)

    def question_of(self, reply: StoredMessage) -> str:
        """The user message an assistant reply answers (the one just before it)."""
        row = self._db.conn.execute(
            "SELECT content FROM messages WHERE conversation_id = ? AND id < ? AND role = 'user' "
            "ORDER BY id DESC LIMIT 1",
            (reply.conversation_id, reply.id),
        ).fetchone()
        return "" if row is None else str(row[0])

    def save_turn(
        self,
        conversation_id: int,
        question: str,
        answer: str,
        *,
        reasoning: str = "",
        citations: list[dict[str, Any]] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> tuple[int, int]:
        """Store the user's message and the assistant's reply together; their ids."""
        with self._db.write() as conn:
            user = conn.execute(
                "INSERT INTO messages (conversation_id, role, content) VALUES (?, 'user', ?) "
                "RETURNING id",
                (conversation_id, question),
            ).fetchone()[0]
            reply = conn.execute(
                "INSERT INTO messages (conversation_id, role, content, reasoning, citations, "
                "metadata) VALUES (?, 'assistant', ?, ?, ?, ?) RETURNING id",
                (conversation_id, answer, reasoning,
                 json.dumps(citations or [], ensure_ascii=False),
                 json.dumps(metadata or {}, ensure_ascii=False)),
            ).fetchone()[0]
            conn.execute(
                f"UPDATE conversations SET updated_at = {self._db.now}, "
                "title = COALESCE(title, ?) WHERE id = ?",
                (question[:80], conversation_id),
            )
        return int(user), int(reply)

    def messages(self, conversation_id: int) -> list[StoredMessage]:
        """Every message, oldest first."""
        self.require(conversation_id)
        rows = self._db.conn.execute(
            "SELECT * FROM messages WHERE conversation_id = ? ORDER BY id", (conversation_id,)
        ).fetchall()
        return [_stored(r) for r in rows]

    def history(self, conversation_id: int) -> list[Message]:
        """The conversation as chat messages (reasoning left out)."""
        out: list[Message] = []
        for m in self.messages(conversation_id):
            if m.role == "user":
                out.append({"role": "user", "content": m.content})
            else:
                out.append({"role": "assistant", "content": m.content})
        return out

    def list(self, assistant_id: int | None = None) -> list[dict[str, Any]]:
        """Conversations, most recent first."""
        sql = f"SELECT {_COLUMNS} FROM conversations WHERE workspace_id = ?"
        args: list[Any] = [self._ws]
        if assistant_id is not None:
            sql += " AND assistant_id = ?"
            args.append(assistant_id)
        rows = self._db.conn.execute(sql + " ORDER BY updated_at DESC, id DESC", args).fetchall()
        return [dict(r) for r in rows]


    def cited_kbs(self, conversation_id: int) -> set[str | None]:
        """The knowledge bases of the documents its answers cite (None: a cited document that
        no longer exists, so its knowledge base is unknown)."""
        cited: set[int] = set()
        for m in self.messages(conversation_id):
            cited.update(int(c["document_id"]) for c in m.citations if "document_id" in c)
        if not cited:
            return set()
        ids = sorted(cited)
        rows = self._db.conn.execute(
            "SELECT d.id, k.name FROM documents d JOIN knowledge_bases k ON k.id = d.kb_id "
            f"WHERE k.workspace_id = ? AND d.id IN ({', '.join('?' * len(ids))})",
            [self._ws, *ids],
        ).fetchall()
        found = {int(r[0]): str(r[1]) for r in rows}
        return {found.get(i) for i in ids}


def _stored(r: Row) -> StoredMessage:
    return StoredMessage(
        id=r["id"], conversation_id=r["conversation_id"], role=r["role"], content=r["content"],
        reasoning=r["reasoning"], citations=json.loads(r["citations"]),
        metadata=json.loads(r["metadata"]), created_at=r["created_at"],
    )
