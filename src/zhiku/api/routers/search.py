"""Search: the core's hybrid (or keyword / vector) search with filters and per-retriever scores,
and the knowledge-graph modes (local / global / mix), whose hits are chunk citations too."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from zhiku.api.deps import Caller, Service
from zhiku.api.schemas import ERRORS, Request
from zhiku.core.errors import InvalidInput
from zhiku.core.jsonbounds import StoredJson
from zhiku.kb_language import query_warning
from zhiku.store.filters import SearchFilters

router = APIRouter(tags=["search"], responses=ERRORS)


class SearchIn(Request):
    """A query over some (default: every permitted) knowledge bases."""

    query: str = Field(min_length=1, max_length=4000)
    knowledge_bases: list[str] | None = Field(default=None, max_length=32)
    top_k: int = Field(default=5, ge=1, le=100)
    mode: Literal["hybrid", "keyword", "vector", "local", "global", "mix"] = Field(
        default="hybrid",
        description="hybrid, keyword or vector search; or a knowledge-graph mode: local "
        "(entities in the query → the chunks that mention them and their neighbours), global "
        "(community summaries → their members' chunks) or mix (graph evidence fused with "
        "hybrid search). Every mode returns chunks.",
    )
    fusion: Literal["rrf", "weighted"] | None = None
    min_relevance: float = Field(default=0.0, ge=0.0, le=1.0)
    vector_weight: float | None = Field(default=None, ge=0.0, le=1.0)
    filters: SearchFilters | None = None


class HitOut(BaseModel):
    """One hit: where it comes from, its text, and each retriever's score."""

    chunk_id: int
    document_id: int
    kb: str
    source: str
    title: str | None
    text: str
    matched_text: str
    heading_path: list[str]
    page: int | None
    location: str
    score: float
    relevance: float
    scores: dict[str, float | None]
    metadata: StoredJson
    reranked: bool | None = Field(
        default=None, description="None: no reranker; false: the fused order was kept"
    )


class SearchOut(BaseModel):
    """Hits, best first; ``warnings``: what made them less reliable (a Chinese question over
    an embedder that does not read Chinese)."""

    hits: list[HitOut]
    warnings: list[str] = Field(default_factory=list)


@router.post("/v1/search", response_model=SearchOut)
def search(body: SearchIn, caller: Caller, zk: Service) -> SearchOut:
    """Hybrid (or keyword, vector, graph local / global / mix) search across knowledge bases;
    ``fusion`` and ``vector_weight`` apply to the non-graph modes."""
    if body.knowledge_bases is None:
        names = [kb.name for kb in zk.list_kbs() if caller.may_kb(kb.name)]
    else:
        caller.check_kbs(body.knowledge_bases)
        names = body.knowledge_bases
    if not names:
        raise InvalidInput("no knowledge base to search")
    found = [zk.kb(n) for n in names]
    kbs = {kb.id: kb.name for kb in found}
    if not body.query.strip():
        raise InvalidInput("the query is empty")
    hits = zk.search(
        names,
        body.query,
        top_k=body.top_k,
        mode=body.mode,
        filters=body.filters,
        fusion=body.fusion,
        min_relevance=body.min_relevance,
        vector_weight=body.vector_weight,
    )
    warning = None if body.mode not in ("hybrid", "vector") else query_warning(
        body.query, {kb.name: kb.embedder for kb in found})
    return SearchOut(
        warnings=[warning] if warning else [],
        hits=[
            HitOut(
                chunk_id=h.chunk_id,
                document_id=h.document_id,
                kb=kbs.get(h.kb_id, ""),
                source=h.source,
                title=h.title,
                text=h.text,
                matched_text=h.matched_text,
                heading_path=h.heading_path,
                page=h.page,
                location=h.location,
                score=h.score,
                relevance=h.relevance,
                scores=h.scores,
                metadata=h.metadata,
                reranked=h.reranked,
            )
            for h in hits
        ]
    )
