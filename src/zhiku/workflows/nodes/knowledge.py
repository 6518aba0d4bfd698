"""Retrieval and the grounded answerer over knowledge bases."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from zhiku.answer.extractive import ExtractiveAnswerer
from zhiku.answer.grounded import GroundedAnswer
from zhiku.answer.llm import LLMAnswerer, LLMAnswerOptions
from zhiku.answer.types import Answer
from zhiku.core.errors import InvalidInput
from zhiku.models.llm.errors import Cancelled
from zhiku.retrieval.types import Hit
from zhiku.workflows.nodes.base import NodeContext, NodeResult
from zhiku.workflows.schema import AnswerGroundedNode, KnowledgeNode


def hit_dict(hit: Hit) -> dict[str, Any]:
    """A hit as JSON-ready data (what templates and the run record see)."""
    return {"chunk_id": hit.chunk_id, "document_id": hit.document_id, "source": hit.source,
            "title": hit.title, "text": hit.text, "score": hit.score,
            "relevance": hit.relevance, "page": hit.page,
            "location": hit.location, "heading_path": list(hit.heading_path)}


def run_knowledge(node: KnowledgeNode, ctx: NodeContext) -> NodeResult:
    """The hits, their passages joined as numbered text, and the count."""
    query = ctx.render(node.query).strip()
    if not query:
        raise InvalidInput("the retrieval query is empty")
    hits = ctx.services.search(
        node.knowledge_bases, query, top_k=node.top_k, mode=node.mode, filters=node.filters,
        min_relevance=node.min_relevance,
    )
    text = "\n\n".join(f"[{i}] {h.text}" for i, h in enumerate(hits, start=1))
    return NodeResult({"hits": [hit_dict(h) for h in hits], "text": text, "count": len(hits)})


def run_answer_grounded(node: AnswerGroundedNode, ctx: NodeContext) -> NodeResult:
    """Retrieve, then answer citing every sentence or refuse (extractive without a model);
    tokens stream as they come, citations are sent when the answer is complete."""
    question = ctx.render(node.question).strip()
    if not question:
        raise InvalidInput("the question is empty")
    hits = ctx.services.search(node.knowledge_bases, question, top_k=node.top_k,
                               filters=node.filters)
    answer: Answer
    if node.model is None:
        answer = ExtractiveAnswerer(node.min_relevance).answer(question, hits)
        if answer.refused and node.refusal_message:
            answer.answer = node.refusal_message
        ctx.emit("token", {"text": answer.answer})
    else:
        answerer = LLMAnswerer(
            ctx.services.chat_model(node.model, ctx.calls),
            LLMAnswerOptions(min_relevance=node.min_relevance, temperature=node.temperature,
                             max_tokens=node.max_tokens, system_template=node.system_prompt,
                             refusal=node.refusal_message),
        )
        final: GroundedAnswer | None = None
        for event in answerer.stream(question, hits, cancel=ctx.cancel):
            if event.kind == "token":
                ctx.emit("token", {"text": event.text})
            elif event.answer is not None:
                final = event.answer
        if final is None:
            raise Cancelled("the answer was cancelled")
        answer = final
    citations = [asdict(c) for c in answer.citations]
    if citations:
        ctx.emit("citations", {"citations": citations})
    return NodeResult({"answer": answer.answer, "citations": citations,
                       "refused": answer.refused, "grounded": answer.grounded})
