"""One chat turn: resolve the assistant, rewrite the follow-up, retrieve, answer, store.

Messages are written only after the answer is complete; a failed or cancelled call writes
nothing (a conversation created for that turn is removed again).

An assistant without a model answers with the extractive answerer (no LLM) through the same
path: the turn is stored, streamed (a few token events) and accounted for the same way.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import asdict, dataclass, replace

from zhiku.answer.citations import MARKER_RE
from zhiku.answer.extractive import ExtractiveAnswerer
from zhiku.answer.grounded import AnswerEvent, GroundedAnswer
from zhiku.answer.llm import LLMAnswerer, LLMAnswerOptions
from zhiku.answer.rewrite import rewrite_question
from zhiku.apps.store import AssistantStore
from zhiku.apps.types import EXTRACTIVE, Assistant, AssistantConfig, RetrievalConfig
from zhiku.chat.accounting import CallContext, CallLog, RequestLog, TurnUsage, usage_of
from zhiku.chat.providers import ProviderRegistry
from zhiku.chat.store import ConversationStore, Owner
from zhiku.core.errors import InvalidInput
from zhiku.models.llm.errors import Cancelled
from zhiku.models.llm.fallback import FallbackChatModel
from zhiku.models.llm.metered import MeteredChatModel
from zhiku.models.llm.types import CallRecord, CancelToken, ChatModel, Message, Usage
from zhiku.moderation.guard import Moderator
from zhiku.retrieval.types import Hit
from zhiku.text.tokens import count_tokens

EXTRACTIVE_PROVIDER = "zhiku"
"""``model_calls.provider`` of extractive answers (``model`` is ``extractive``)."""
_PIECE_RE = re.compile(r".+?(?:[\]】]\s*|$)", re.DOTALL)

SearchFn = Callable[[list[str], str, RetrievalConfig], list[Hit]]
ModerationFn = Callable[[], Moderator | None]


@dataclass(slots=True)
class ChatTurn:
    """The outcome of one turn."""

    conversation_id: int | None
    answer: GroundedAnswer
    message_id: int | None = None


class ChatEngine:
    """Chat and one-shot answers with stored assistants."""

    def __init__(
        self,
        search: SearchFn,
        providers: ProviderRegistry,
        assistants: AssistantStore,
        conversations: ConversationStore,
        calls: CallLog,
        requests: RequestLog | None = None,
        moderation: ModerationFn | None = None,
    ) -> None:
        self._search = search
        self._moderation = moderation
        self._providers = providers
        self._assistants = assistants
        self._conversations = conversations
        self._calls = calls
        self._requests = requests

    def model_for(self, config: AssistantConfig, context: CallContext) -> ChatModel:
        """The assistant's model and fallbacks, each metered under ``context``."""
        if config.model is None:
            raise InvalidInput("this assistant has no model (it answers extractively)")
        chain: list[ChatModel] = []
        for ref in [config.model, *config.fallback_models]:
            provider = self._providers.config_for(ref)
            chain.append(MeteredChatModel(
                self._providers.model(ref), self._calls.observer(context),
                provider.price_input, provider.price_output,
            ))
        return chain[0] if len(chain) == 1 else FallbackChatModel(chain)

    def ask(self, app: str, question: str, cancel: CancelToken | None = None) -> GroundedAnswer:
        """A one-shot answer (no conversation stored)."""
        return self.turn(app, question, None, cancel, store=False).answer

    def turn(
        self,
        app: str,
        message: str,
        conversation_id: int | None = None,
        cancel: CancelToken | None = None,
        *,
        store: bool = True,
        history: Sequence[Message] | None = None,
        owner: Owner | None = None,
        endpoint: str | None = None,
        draft: bool = False,
    ) -> ChatTurn:
        """One whole turn."""
        stream = self.stream(app, message, conversation_id, cancel, store=store, history=history,
                             owner=owner, endpoint=endpoint, draft=draft)
        for event in stream:
            if event.answer is not None:
                return ChatTurn(stream.conversation_id, event.answer, stream.message_id)
        raise AssertionError("a chat stream always ends with an answer")

    def stream(
        self,
        app: str,
        message: str,
        conversation_id: int | None = None,
        cancel: CancelToken | None = None,
        *,
        store: bool = True,
        history: Sequence[Message] | None = None,
        owner: Owner | None = None,
        endpoint: str | None = None,
        config: AssistantConfig | None = None,
        draft: bool = False,
    ) -> ChatStream:
        """One turn as a stream of events; ``conversation_id`` is known before iterating.

        ``draft``: answer with the assistant's draft configuration instead of its published
        version (a preview of unpublished changes).

        ``history``: earlier turns kept by the caller (OpenAI-style clients) instead of a stored
        conversation; they are used for rewriting and answering, not stored. ``owner``: who a
        new conversation belongs to (none: started locally). ``endpoint``: the face's name for
        the request (``chat``, ``openai``); an answered request is then written to the request
        log with its owner and usage. A conversation continues only with
        the assistant it was started with; one whose assistant was deleted cannot continue
        (``InvalidInput``), since its answers came from that assistant's knowledge bases.
        ``config``: answer with this configuration instead of the live one (evaluating a draft
        or a version); such a turn is never stored.
        """
        if not message.strip():
            raise InvalidInput("the message is empty")
        if history is not None and conversation_id is not None:
            raise InvalidInput("give a conversation or a history, not both")
        assistant = self._assistants.get(app)
        if config is not None:
            if store or conversation_id is not None:
                raise InvalidInput("a turn with a configuration of its own is not stored")
            assistant = replace(assistant, published=config)
        created = False
        if store and conversation_id is None:
            conversation_id = self._conversations.create(assistant.id, message[:80], owner)
            created = True
        elif conversation_id is not None:
            started_with = self._conversations.require(conversation_id)
            if not started_with:
                raise InvalidInput("that conversation's assistant was deleted; start a new one")
            if started_with != assistant.id:
                raise InvalidInput(
                    "that conversation belongs to another assistant; start a new one"
                )
        stream = ChatStream(self, assistant, message, conversation_id, created, cancel, store)
        stream.owner, stream.endpoint, stream.draft = owner, endpoint, draft
        stream.history = None if history is None else [
            {"role": m["role"], "content": m["content"]} for m in history
        ]
        return stream

    # -- used by ChatStream ---------------------------------------------------------------
    def _run(self, s: ChatStream) -> Iterator[AnswerEvent]:
        config = s.assistant.draft if s.draft else s.assistant.live
        s.moderator = self._moderation() if self._moderation is not None else None
        if s.moderator is not None:
            verdict = s.moderator.check_input(s.message, s.assistant.slug, s.endpoint)
            if verdict.blocked:
                yield from self._blocked(s, s.moderator)
                return
            s.message = verdict.text  # listed words masked, also in the stored turn
        if config.model is None:
            yield from self._run_extractive(s, config)
            return
        history: list[Message] = (
            s.history if s.history is not None
            else self._conversations.history(s.conversation_id) if s.conversation_id else []
        )
        for m in history:  # old [n] markers point at documents this turn does not show
            m["content"] = MARKER_RE.sub("", m["content"])
        ctx = CallContext("rewrite", s.assistant.id, s.conversation_id, s.calls)
        query = s.message
        if history and config.rewrite_followups:
            query = rewrite_question(self.model_for(config, ctx), history, s.message, s.cancel)
        hits = self._search(config.knowledge_bases, query, config.retrieval)
        answerer = LLMAnswerer(
            self.model_for(
                config, CallContext("answer", s.assistant.id, s.conversation_id, s.calls)
            ),
            _options(s.assistant, config),
        )
        final: GroundedAnswer | None = None
        events = answerer.stream(s.message, hits, history=history, query=query, cancel=s.cancel)
        for event in self._moderated(s, events):
            if event.answer is not None:
                final = event.answer
                if s.store and s.conversation_id is not None:
                    _, s.message_id = self._save(s, final)
            yield event
        if final is None:
            raise AssertionError("the answerer ended without an answer")

    def _run_extractive(self, s: ChatStream, config: AssistantConfig) -> Iterator[AnswerEvent]:
        """No model: the extractive answerer over the same retrieval, stored and metered alike.

        Follow-ups are not rewritten (that needs a model): the message is the query.
        """
        hits = self._search(config.knowledge_bases, s.message, config.retrieval)
        if s.cancel.cancelled:
            raise Cancelled("the answer was cancelled")
        started = time.perf_counter()
        found = ExtractiveAnswerer(config.retrieval.min_relevance).answer(s.message, hits)
        latency = (time.perf_counter() - started) * 1000
        if found.refused:  # like the LLM path: a refusal costs no (model) call
            answer = GroundedAnswer(config.refusal_message or found.answer, refused=True,
                                    hits=hits, query=s.message)
        else:
            text = found.answer
            if config.citation_style == "hidden":
                text = MARKER_RE.sub("", text).strip()
            context = sum(count_tokens(c.text) for c in found.citations)
            usage = Usage(count_tokens(s.message) + context, count_tokens(text), estimated=True)
            answer = GroundedAnswer(text, found.citations, refused=False, hits=hits,
                                    query=s.message, model=EXTRACTIVE, usage=usage,
                                    context_tokens=context)
            if s.moderator is not None:
                verdict = s.moderator.check_output(answer.answer, s.assistant.slug, s.endpoint)
                if verdict.blocked:
                    answer = self._blocked_answer(s, s.moderator)
                else:
                    answer.answer = verdict.text
                    _scrub_citations(answer, s.moderator)
            record = CallRecord(EXTRACTIVE_PROVIDER, EXTRACTIVE, usage, latency, latency, 0.0,
                                ok=True, stream=True)
            self._calls.record(
                record, CallContext("answer", s.assistant.id, s.conversation_id, s.calls)
            )
        for piece in answer_pieces(answer.answer):
            yield AnswerEvent("token", piece)
        if s.cancel.cancelled:
            raise Cancelled("the answer was cancelled")
        if s.store and s.conversation_id is not None:
            _, s.message_id = self._save(s, answer)
        yield AnswerEvent("answer", answer=answer)

    def _moderated(self, s: ChatStream, events: Iterator[AnswerEvent]) -> Iterator[AnswerEvent]:
        """``events`` with the answer's text (and reasoning) checked as it streams: listed
        words masked, and on a blocked word the model is stopped and the policy's reply
        becomes the answer; nothing after the last safe character reaches the reader."""
        moderator = s.moderator
        if moderator is None:
            yield from events
            return
        filters = {kind: moderator.output_filter(s.assistant.slug, s.endpoint)
                   for kind in ("token", "reasoning")}
        for event in events:
            if event.answer is None:
                released = filters[event.kind].feed(event.text)
                if filters[event.kind].blocked:
                    close = getattr(events, "close", None)
                    if close is not None:  # stop the model's stream now
                        close()
                    blocked = self._blocked_answer(s, moderator)
                    # readers that only concatenate tokens (OpenAI-style streams) see the
                    # reply too; the final answer replaces the text for those that can
                    sent = filters["token"].released
                    yield AnswerEvent("token", ("\n\n" if sent else "") + blocked.answer)
                    yield AnswerEvent("answer", answer=blocked)
                    return
                if released:
                    yield AnswerEvent(event.kind, released)
                continue
            for kind, tail in ((k, f.finish()) for k, f in filters.items()):
                if tail:
                    yield AnswerEvent(kind, tail)  # type: ignore[arg-type]
            answer = event.answer
            checked = moderator.check_output(answer.answer, record=False)
            if checked.blocked:
                yield AnswerEvent("answer", answer=self._blocked_answer(s, moderator))
                return
            answer.answer = checked.text
            answer.reasoning = moderator.scrub(answer.reasoning)
            _scrub_citations(answer, moderator)
            yield AnswerEvent("answer", answer=answer)

    def _blocked_answer(self, s: ChatStream, moderator: Moderator) -> GroundedAnswer:
        return GroundedAnswer(moderator.policy.block_reply, refused=True, query=s.message,
                              moderated=True)

    def _blocked(self, s: ChatStream, moderator: Moderator) -> Iterator[AnswerEvent]:
        """A blocked question: the policy's reply, stored and streamed, no model called."""
        answer = self._blocked_answer(s, moderator)
        yield AnswerEvent("token", answer.answer)
        if s.store and s.conversation_id is not None:
            _, s.message_id = self._save(s, answer)
        yield AnswerEvent("answer", answer=answer)

    def _save(self, s: ChatStream, answer: GroundedAnswer) -> tuple[int, int]:
        assert s.conversation_id is not None
        meta = {"query": answer.query, "refused": answer.refused, "flagged": answer.flagged,
                "grounded": answer.grounded, "ungrounded_reason": answer.ungrounded_reason,
                "ungrounded_action": answer.ungrounded_action,
                "model": answer.model,
                "assistant_version": None if s.draft else s.assistant.published_version,
                "moderated": answer.moderated, "channel": s.endpoint or "local"}
        if s.draft:
            meta["draft"] = True
        return self._conversations.save_turn(
            s.conversation_id, s.message, answer.answer, reasoning=answer.reasoning,
            citations=[asdict(c) for c in answer.citations], metadata=meta,
        )

    def _answered(self, s: ChatStream) -> None:
        s.usage = usage_of(s.calls, (time.perf_counter() - s.started) * 1000)
        if s.endpoint is not None and self._requests is not None:
            self._requests.record(s.owner, s.assistant.slug, s.endpoint, s.usage, len(s.calls))

    def _abandon(self, s: ChatStream) -> None:
        if s.created and s.conversation_id is not None and s.message_id is None:
            self._conversations.delete(s.conversation_id)


class ChatStream:
    """Iterate for ``AnswerEvent``s; the turn is stored when the final answer arrives."""

    def __init__(
        self,
        engine: ChatEngine,
        assistant: Assistant,
        message: str,
        conversation_id: int | None,
        created: bool,
        cancel: CancelToken | None,
        store: bool,
    ) -> None:
        self.assistant = assistant
        self.message = message
        self.conversation_id = conversation_id
        self.created = created
        self.cancel = cancel or CancelToken()
        self.store = store
        self.message_id: int | None = None
        self.history: list[Message] | None = None
        self.calls: list[CallRecord] = []  # every model call of this turn, as recorded
        self.owner: Owner | None = None
        self.endpoint: str | None = None
        self.draft = False  # answer with the draft, not the published version
        self.started = time.perf_counter()
        self.usage: TurnUsage | None = None  # the turn's summed usage, once it is answered
        self.moderator: Moderator | None = None  # the workspace's policy, for this turn
        self._engine = engine

    def __iter__(self) -> Generator[AnswerEvent, None, None]:
        try:
            for event in self._engine._run(self):
                if event.answer is not None:
                    self._engine._answered(self)
                yield event
        finally:  # failure, cancellation, or a reader that stopped early
            self._engine._abandon(self)


def _scrub_citations(answer: GroundedAnswer, moderator: Moderator) -> None:
    """Mask listed words in the passages and quotes shown with an answer."""
    for c in answer.citations:
        c.text, c.quote = moderator.scrub(c.text), moderator.scrub(c.quote)


def answer_pieces(text: str) -> list[str]:
    """An extractive answer as a few stream tokens: one per cited sentence."""
    found = _PIECE_RE.findall(text)
    return found if found and "".join(found) == text else [text]


def _options(assistant: Assistant, config: AssistantConfig) -> LLMAnswerOptions:
    return LLMAnswerOptions(
        min_relevance=config.retrieval.min_relevance,
        temperature=config.temperature,
        max_tokens=config.max_tokens,
        system_template=config.system_prompt,
        name=assistant.name,
        refusal=config.refusal_message,
        citation_style=config.citation_style,
        on_ungrounded=config.on_ungrounded,
    )
