"""``EngineChat``: the chat seam over issue 3's assistants, conversations and chat engine.

Everything goes through the workspace's ``Zhiku`` (``zk.llm``): assistants are the ones
``zhiku apps`` and ``Zhiku.get_assistant`` see, chats are stored in the same conversations and
messages, every model call (and extractive answer) is in ``model_calls``. The API adds only its
own per-request row in ``api_calls`` (which key or user asked, and the usage of that request)
and logs answers that receive feedback in issue 7's answer log (``zhiku.evals.feedback``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

from zhiku.answer.grounded import GroundedAnswer
from zhiku.answer.types import Answer, Citation
from zhiku.api.chat.types import ChatEvent, ChatRequest, ChatResult, Usage
from zhiku.apps.types import Assistant, AssistantConfig
from zhiku.chat.store import Owner, StoredMessage
from zhiku.core.errors import InvalidInput, NotFound
from zhiku.evals import feedback as answer_log
from zhiku.models.llm.types import CallRecord, Message
from zhiku.retrieval.types import Hit
from zhiku.runtime import Runtime
from zhiku.service import Zhiku
from zhiku.store.db import Database

APP_TARGET = "app:"
"""Answer-log target prefix of an assistant (as ``zhiku evals``/``zhiku feedback`` use it)."""


def _missing(slug: str) -> NotFound:
    return NotFound(f"assistant '{slug}' does not exist")


def usage_of(calls: list[CallRecord], latency_ms: float) -> Usage:
    """Summed tokens and cost of a turn's model calls, with the turn's own duration."""
    return Usage(
        input_tokens=sum(c.usage.input_tokens for c in calls),
        output_tokens=sum(c.usage.output_tokens for c in calls),
        cost=round(sum(c.cost for c in calls), 8),
        latency_ms=round(latency_ms, 3),
    )


class EngineChat:
    """Implements ``ChatBackend`` with each workspace's ``Zhiku`` (its ``llm`` services)."""

    def __init__(self, db: Database, services: Runtime) -> None:
        self._db = db
        self._services = services

    def _zk(self, workspace_id: int) -> Zhiku:
        return self._services.workspace(workspace_id)

    # -- assistants -----------------------------------------------------------------------
    def list_assistants(self, workspace_id: int) -> list[Assistant]:
        return self._zk(workspace_id).list_assistants()

    def assistant(self, workspace_id: int, slug: str) -> Assistant:
        try:
            found = self._zk(workspace_id).get_assistant(slug)
        except NotFound:
            raise _missing(slug) from None
        if found.slug != slug:  # the store also matches names; the API addresses slugs only
            raise _missing(slug)
        return found

    def _check(self, zk: Zhiku, config: AssistantConfig) -> None:
        """Knowledge bases exist (``NotFound``), models name configured chat providers and the
        reranker a configured reranker."""
        for kb in config.knowledge_bases:
            zk.kb(kb)
        for ref in [config.model, *config.fallback_models]:
            if ref is None:
                continue
            try:
                kind = zk.llm.providers.config_for(ref).kind
            except NotFound as exc:
                raise InvalidInput(f"model '{ref}': {exc.message}") from None
            if kind == "rerank":
                raise InvalidInput(f"model '{ref}' is a reranker, not a chat model")
        reranker = config.retrieval.reranker
        if reranker is not None:
            try:
                kind = zk.llm.providers.config_for(reranker).kind
            except NotFound as exc:
                raise InvalidInput(f"reranker '{reranker}': {exc.message}") from None
            if kind != "rerank":
                raise InvalidInput(f"reranker '{reranker}' is not a provider of kind rerank")

    def create_assistant(
        self, workspace_id: int, slug: str, name: str, config: AssistantConfig
    ) -> Assistant:
        zk = self._zk(workspace_id)
        self._check(zk, config)
        return zk.create_assistant(name or slug, slug=slug, **config.model_dump(mode="json"))

    def update_assistant(
        self, workspace_id: int, slug: str, name: str | None, config: AssistantConfig | None
    ) -> Assistant:
        zk = self._zk(workspace_id)
        self.assistant(workspace_id, slug)
        changes: dict[str, Any] = {}
        if config is not None:
            self._check(zk, config)
            changes = config.model_dump(mode="json")
        if name:
            changes["name"] = name
        return zk.update_assistant(slug, **changes)

    def delete_assistant(self, workspace_id: int, slug: str) -> None:
        self.assistant(workspace_id, slug)
        self._zk(workspace_id).delete_assistant(slug)

    def versions(self, workspace_id: int, slug: str) -> list[dict[str, Any]]:
        self.assistant(workspace_id, slug)
        return self._zk(workspace_id).llm.assistants.versions(slug)

    def publish(self, workspace_id: int, slug: str, note: str) -> Assistant:
        self.assistant(workspace_id, slug)
        zk = self._zk(workspace_id)
        zk.publish_assistant(slug, note or None)
        return zk.get_assistant(slug)

    # -- answering ------------------------------------------------------------------------
    def chat(self, request: ChatRequest) -> Iterator[ChatEvent]:
        started = time.perf_counter()
        zk = self._zk(request.workspace_id)
        assistant = self.assistant(request.workspace_id, request.assistant)
        history: list[Message] | None = None
        if request.history is not None:
            history = [
                {"role": "assistant" if t.role == "assistant" else "user", "content": t.content}
                for t in request.history
                if t.role in ("user", "assistant")
            ]
        stream = zk.llm.engine.stream(
            assistant.slug, request.message, request.conversation_id,
            store=request.store, history=history,
            owner=Owner(user_id=request.user_id, key_id=request.key_id),
        )
        events = stream.__iter__()
        try:
            for event in events:
                if event.kind == "token":
                    yield ChatEvent(token=event.text)
                elif event.kind == "reasoning":
                    yield ChatEvent(reasoning=event.text)
                elif event.answer is not None:
                    usage = usage_of(stream.calls, (time.perf_counter() - started) * 1000)
                    result = _result(event.answer, usage, stream.conversation_id,
                                     stream.message_id)
                    self._record(request, assistant.slug, usage, len(stream.calls))
                    yield ChatEvent(result=result)
        finally:  # a client gone mid-stream: the engine removes what it began
            events.close()

    def _record(self, request: ChatRequest, slug: str, usage: Usage, calls: int) -> None:
        """Who asked: one ``api_calls`` row per answered request, with that request's usage."""
        with self._db.write() as conn:
            conn.execute(
                "INSERT INTO api_calls (workspace_id, key_id, user_id, assistant, endpoint, "
                "input_tokens, output_tokens, cost, latency_ms, model_calls) "
                "VALUES (?,?,?,?,?,?,?,?,?,?)",
                (request.workspace_id, request.key_id, request.user_id, slug, request.endpoint,
                 usage.input_tokens, usage.output_tokens, usage.cost, usage.latency_ms, calls),
            )

    # -- conversations --------------------------------------------------------------------
    def _slugs(self, zk: Zhiku) -> dict[int, str]:
        return {a.id: a.slug for a in zk.list_assistants()}

    def _conversation_out(self, row: dict[str, Any], slugs: dict[int, str]) -> dict[str, Any]:
        out = {k: v for k, v in row.items() if k != "assistant_id"}
        out["assistant"] = slugs.get(row["assistant_id"] or 0)
        return out

    def conversations(self, workspace_id: int, assistant: str | None) -> list[dict[str, Any]]:
        zk = self._zk(workspace_id)
        owner = None if assistant is None else self.assistant(workspace_id, assistant).id
        slugs = self._slugs(zk)
        return [self._conversation_out(r, slugs) for r in zk.llm.conversations.list(owner)]

    def conversation(self, workspace_id: int, conversation_id: int) -> dict[str, Any]:
        zk = self._zk(workspace_id)
        row = zk.llm.conversations.get(conversation_id)
        slug = _slug_by_id(zk, row["assistant_id"])
        return self._conversation_out(row, {} if slug is None else {row["assistant_id"]: slug})

    def messages(self, workspace_id: int, conversation_id: int) -> list[dict[str, Any]]:
        zk = self._zk(workspace_id)
        return [m.to_dict() for m in zk.llm.conversations.messages(conversation_id)]

    def delete_conversation(self, workspace_id: int, conversation_id: int) -> None:
        convs = self._zk(workspace_id).llm.conversations
        convs.get(conversation_id)
        convs.delete(conversation_id)

    # -- feedback and usage ---------------------------------------------------------------
    def _reply(self, zk: Zhiku, message_id: int) -> StoredMessage:
        msg = zk.llm.conversations.message(message_id)
        if msg.role != "assistant":
            raise NotFound(f"message {message_id} does not exist")
        return msg

    def _slug_of(self, zk: Zhiku, msg: StoredMessage) -> str | None:
        return _slug_by_id(zk, zk.llm.conversations.get(msg.conversation_id)["assistant_id"])

    def message_conversation(self, workspace_id: int, message_id: int) -> int:
        zk = self._zk(workspace_id)
        return self._reply(zk, message_id).conversation_id

    def cited_kbs(self, workspace_id: int, conversation_id: int) -> set[str | None]:
        return self._zk(workspace_id).llm.conversations.cited_kbs(conversation_id)

    def add_feedback(
        self,
        workspace_id: int,
        message_id: int,
        rating: int,
        comment: str,
        corrected_answer: str | None,
    ) -> dict[str, Any]:
        zk = self._zk(workspace_id)
        msg = self._reply(zk, message_id)
        answer_id = self._logged(zk, msg)
        answer_log.add_feedback(zk, answer_id, rating, comment=comment,
                                corrected_answer=corrected_answer)
        return _feedback_out(answer_log.get_answer(zk, answer_id))

    def _logged(self, zk: Zhiku, msg: StoredMessage) -> int:
        """The answer-log entry of a chat reply, logged on its first feedback."""
        db = zk.db
        with db.write() as conn:  # check and insert in one transaction
            if db.dialect == "postgresql":  # SQLite's writers queue already; here, lock the reply
                conn.execute("SELECT id FROM messages WHERE id = ? FOR UPDATE", (msg.id,))
            row = conn.execute(
                "SELECT min(id) FROM answer_log WHERE workspace_id = ? AND message_id = ?",
                (zk.workspace_id, msg.id),
            ).fetchone()
            if row[0] is not None:
                return int(row[0])
            slug = self._slug_of(zk, msg)
            target = APP_TARGET + slug if slug else "chat"
            question = zk.llm.conversations.question_of(msg)
            return answer_log.log_answer(zk, target, question, _answer_of(msg), message_id=msg.id)

    def feedback(self, workspace_id: int, assistant: str | None) -> list[dict[str, Any]]:
        zk = self._zk(workspace_id)
        flt = answer_log.FeedbackFilter(target=APP_TARGET + assistant if assistant else None)
        return [_feedback_out(a) for a in reversed(answer_log.list_answers(zk, flt))]

    def usage(self, workspace_id: int, group_by: str, since: str | None) -> list[dict[str, Any]]:
        """Per key from the API's request log; per assistant or day from ``model_calls``
        (every model call and extractive answer, whether asked through the API, the CLI or
        Python). ``requests``: answers given (a refusal without a model call counts only in the
        per-key figures); ``calls``: model calls, rewrites and failed attempts included."""
        if group_by == "key":
            sql = (
                "SELECT key_id grp, count(*) requests, sum(model_calls) calls, "
                "sum(input_tokens) input_tokens, sum(output_tokens) output_tokens, sum(cost) cost, "
                "avg(latency_ms) avg_latency_ms, max(latency_ms) max_latency_ms "
                "FROM api_calls WHERE workspace_id = ?"
            )
            tail = " GROUP BY key_id ORDER BY key_id NULLS FIRST"
            since_sql = " AND day >= ?"
        else:
            column = "a.slug" if group_by == "assistant" else "substr(m.created_at, 1, 10)"
            sql = (
                f"SELECT {column} grp, "
                "coalesce(sum(CASE WHEN m.purpose = 'answer' AND m.ok = 1 THEN 1 ELSE 0 END), 0) "
                "requests, count(*) calls, "
                "sum(m.input_tokens) input_tokens, sum(m.output_tokens) output_tokens, "
                "sum(m.cost) cost, avg(m.latency_ms) avg_latency_ms, "
                "max(m.latency_ms) max_latency_ms "
                "FROM model_calls m LEFT JOIN assistants a ON a.id = m.assistant_id "
                "WHERE m.workspace_id = ?"
            )
            tail = f" GROUP BY {column} ORDER BY {column} NULLS FIRST"
            since_sql = " AND m.created_at >= ?"
        params: list[Any] = [workspace_id]
        if since is not None:
            sql += since_sql
            params.append(since)
        return [dict(r) for r in self._db.conn.execute(sql + tail, params)]


def _slug_by_id(zk: Zhiku, assistant_id: int | None) -> str | None:
    """The slug of an assistant (None: detached, its assistant was deleted)."""
    if not assistant_id:
        return None
    try:
        return zk.llm.assistants.get_by_id(assistant_id).slug
    except NotFound:
        return None


def _result(
    answer: GroundedAnswer, usage: Usage, conversation_id: int | None, message_id: int | None
) -> ChatResult:
    return ChatResult(
        answer=answer.answer,
        refused=answer.refused,
        citations=[asdict(c) for c in answer.citations],
        usage=usage,
        conversation_id=conversation_id,
        message_id=message_id,
        flagged=answer.flagged,
        model=answer.model,
        grounded=answer.grounded,
        ungrounded_reason=answer.ungrounded_reason,
        ungrounded_action=answer.ungrounded_action,
    )


def _answer_of(msg: StoredMessage) -> Answer:
    """A stored reply as an ``Answer`` for the log; its cited passages stand in for the hits."""
    citations = [Citation(**c) for c in msg.citations]
    hits = [
        Hit(chunk_id=c.chunk_id, document_id=c.document_id, kb_id=0, source=c.source,
            title=c.title, text=c.text, matched_text=c.text, heading_path=list(c.heading_path),
            page=c.page, score=c.score, relevance=c.score)
        for c in citations
    ]
    return Answer(msg.content, citations, refused=bool(msg.metadata.get("refused")), hits=hits)


def _feedback_out(a: answer_log.LoggedAnswer) -> dict[str, Any]:
    return {
        "answer_id": a.id,
        "message_id": a.message_id,
        "assistant": a.target[len(APP_TARGET):] if a.target.startswith(APP_TARGET) else None,
        "target": a.target,
        "question": a.question,
        "answer": a.answer,
        "rating": a.rating if a.rating is not None else 0,
        "comment": a.comment,
        "corrected_answer": a.corrected_answer,
        "tags": a.tags,
        "created_at": a.created_at,
    }
