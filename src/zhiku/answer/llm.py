"""The LLM answerer: pack the evidence into the window, ask, verify citations, or refuse."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from zhiku.answer.budget import MIN_USEFUL_TOKENS, Packed, pack
from zhiku.answer.citations import MarkerFilter, verify
from zhiku.answer.govern import govern
from zhiku.answer.grounded import AnswerEvent, GroundedAnswer
from zhiku.answer.history import trim_history
from zhiku.answer.prompts import answer_messages, render_document, system_prompt, user_turn
from zhiku.answer.types import REFUSAL, UngroundedPolicy
from zhiku.models.llm.errors import ContextOverflow
from zhiku.models.llm.types import (
    CancelToken,
    ChatModel,
    Completion,
    Delta,
    GenerationOptions,
    Message,
    Usage,
)
from zhiku.retrieval.types import Hit
from zhiku.text.lang import detect_language

RETRY_SHARE = 0.5
"""Share of the document budget used for the one retry after a provider reports an overflow."""


@dataclass(slots=True)
class LLMAnswerOptions:
    """How an assistant answers. ``safety`` is the share of the window kept free for miscounts."""

    min_relevance: float = 0.3
    temperature: float = 0.2
    max_tokens: int = 512
    system_template: str | None = None
    name: str = "Zhiku"
    refusal: str | None = None  # None: the default refusal in the question's language
    citation_style: Literal["inline", "hidden"] = "inline"
    history_share: float = 0.25
    safety: float = 0.05
    on_ungrounded: UngroundedPolicy = "warn"


@dataclass(slots=True)
class _Plan:
    question: str
    lang: str
    refusal: str
    messages: list[Message]
    packed: Packed


class LLMAnswerer:
    """Answers only from the hits that reach ``min_relevance``; refuses without a model call when
    none does. Implements ``Answerer`` (``answer(question, hits)``) and adds streaming."""

    def __init__(self, model: ChatModel, options: LLMAnswerOptions | None = None) -> None:
        self.model = model
        self.options = options or LLMAnswerOptions()

    def answer(
        self,
        question: str,
        hits: list[Hit],
        *,
        history: Sequence[Message] = (),
        query: str | None = None,
        cancel: CancelToken | None = None,
    ) -> GroundedAnswer:
        """The whole answer."""
        plan = self._plan(question, hits, history)
        if plan is None:
            return self._refusal(question, hits, query)
        try:
            completion = self.model.complete(plan.messages, self._gen(), cancel)
        except ContextOverflow:  # the provider counts more tokens than estimated: shrink once
            plan = self._plan(question, hits, history, RETRY_SHARE) or plan
            completion = self.model.complete(plan.messages, self._gen(), cancel)
        return self._finish(plan, completion, hits, query or question)

    def stream(
        self,
        question: str,
        hits: list[Hit],
        *,
        history: Sequence[Message] = (),
        query: str | None = None,
        cancel: CancelToken | None = None,
    ) -> Iterator[AnswerEvent]:
        """Answer tokens as they come (invalid citation markers filtered out), then the answer.

        Under the ``extractive`` and ``refuse`` policies no token is shown before the first
        valid citation: an answer that never cites is not streamed at all, and what the policy
        made of it is sent instead, so the tokens always add up to the final answer.
        """
        plan = self._plan(question, hits, history)
        if plan is None:
            refusal = self._refusal(question, hits, query)
            yield AnswerEvent("token", refusal.answer)
            yield AnswerEvent("answer", answer=refusal)
            return
        inline = self.options.citation_style == "inline"
        markers = MarkerFilter(len(plan.packed.hits), inline)
        hold = self.options.on_ungrounded != "warn"
        held: list[str] = []
        first = True
        for delta in self._deltas(plan, question, hits, history, cancel):
            if first:  # an overflow retry may have packed fewer documents: count those
                markers, first = MarkerFilter(len(plan.packed.hits), inline), False
            if delta.reasoning:
                yield AnswerEvent("reasoning", delta.reasoning)
            if delta.text and (shown := markers.feed(delta.text)):
                if hold and not markers.cited:
                    held.append(shown)
                else:
                    if held:
                        yield AnswerEvent("token", "".join(held))
                        held.clear()
                    yield AnswerEvent("token", shown)
            if delta.done is not None:
                rest = markers.flush()
                final = self._finish(plan, delta.done, hits, query or question)
                if hold and not markers.cited:  # nothing shown yet: show what the policy made
                    yield AnswerEvent("token", final.answer)
                elif rest:
                    yield AnswerEvent("token", rest)
                yield AnswerEvent("answer", answer=final)

    # -- steps ----------------------------------------------------------------------------
    def _deltas(
        self,
        plan: _Plan,
        question: str,
        hits: list[Hit],
        history: Sequence[Message],
        cancel: CancelToken | None,
    ) -> Iterator[Delta]:
        """The model's stream; on an overflow before any output, once more with less context."""
        started = False
        try:
            for delta in self.model.stream(plan.messages, self._gen(), cancel):
                started = True
                yield delta
        except ContextOverflow:
            if started:
                raise
            smaller = self._plan(question, hits, history, RETRY_SHARE) or plan
            plan.packed, plan.messages = smaller.packed, smaller.messages
            yield from self.model.stream(plan.messages, self._gen(), cancel)

    def _gen(self) -> GenerationOptions:
        return GenerationOptions(temperature=self.options.temperature,
                                 max_tokens=self.options.max_tokens)

    def _refusal_text(self, lang: str) -> str:
        return self.options.refusal or REFUSAL[lang]

    def _refusal(self, question: str, hits: list[Hit], query: str | None) -> GroundedAnswer:
        lang = detect_language(question)
        return GroundedAnswer(self._refusal_text(lang), refused=True, hits=hits,
                              query=query or question)

    def _plan(
        self, question: str, hits: list[Hit], history: Sequence[Message], share: float = 1.0
    ) -> _Plan | None:
        """Evidence packed into what the window leaves; None when nothing is relevant enough."""
        opts = self.options
        evidence = [h for h in hits if h.relevance >= opts.min_relevance]
        if not evidence:
            return None
        lang = detect_language(question)
        refusal = self._refusal_text(lang)
        system = system_prompt(opts.system_template, lang, refusal, opts.name)
        count = self.model.count_tokens
        window = self.model.context_window
        reserve = opts.max_tokens + math.ceil(window * opts.safety) + 16
        free = window - reserve - count(system) - count(user_turn([], question, lang))
        if free < MIN_USEFUL_TOKENS:
            raise ContextOverflow(
                f"the question and system prompt leave no room for documents in the "
                f"{window}-token window of {self.model.name}"
            )
        kept = trim_history(history, int(free * opts.history_share), count)
        free -= sum(count(m["content"]) for m in kept)
        packed = pack(evidence, int(free * share), lambda b: count(b) + 1, render_document)
        if not packed.hits:
            raise ContextOverflow(f"no document fits the window of {self.model.name}")
        messages = answer_messages(system, kept, packed.blocks, question, lang)
        return _Plan(question, lang, refusal, messages, packed)

    def _finish(
        self, plan: _Plan, completion: Completion, hits: list[Hit], query: str
    ) -> GroundedAnswer:
        keep = self.options.citation_style == "inline"
        checked = verify(completion.text, plan.packed.hits, keep_markers=keep)
        common = dict(
            hits=hits, reasoning=completion.reasoning, query=query, model=completion.model,
            usage=completion.usage or Usage(), context_tokens=plan.packed.tokens,
            dropped_hits=plan.packed.dropped, removed_citations=checked.removed,
        )
        if not checked.citations and _is_refusal(checked.text, plan.refusal):
            return GroundedAnswer(plan.refusal, refused=True, **common)  # type: ignore[arg-type]
        answer = GroundedAnswer(
            checked.text, checked.citations, refused=False, flagged=checked.flagged,
            **common,  # type: ignore[arg-type]
        )
        opts = self.options
        return govern(answer, opts.on_ungrounded, question=plan.question,
                      passages=plan.packed.hits, refusal=plan.refusal,
                      min_relevance=opts.min_relevance, keep_markers=keep)


def _is_refusal(text: str, refusal: str) -> bool:
    core = refusal.strip().rstrip(".。")
    return not text.strip() or core.lower() in text.lower()
