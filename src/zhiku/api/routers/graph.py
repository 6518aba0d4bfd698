"""The knowledge graph of a knowledge base: counts, entity search, an entity with the passages
behind its relations, shortest paths, export (GraphML, JSON, CSV) and a background build.

Extraction during ingestion is the knowledge base's ``graph`` setting (``POST /v1/kbs`` or
``PATCH /v1/kbs/{kb}`` with ``{"settings": {"graph": true}}``); ``POST …/graph/build`` extracts
for the documents already there. Graph search modes (``local``, ``global``, ``mix``) are
``POST /v1/search`` with ``mode``; their hits are chunks, like every other search.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from zhiku.accounts.principal import Level
from zhiku.api.deps import Caller, Service, State
from zhiku.api.schemas import ERRORS, JobOut, Request, job_out

router = APIRouter(tags=["knowledge graph"], responses=ERRORS)
Name = Annotated[str, Query(min_length=1, max_length=200, description="An entity name or alias.")]


class GraphStatsOut(BaseModel):
    """Counts of the graph, and whether ingestion extracts (the ``graph`` setting).
    ``llm_chunks``: chunks extracted by a language model (0: the fast rules extractor only,
    whose relations are mostly co-occurrences)."""

    kb: str
    graph_on_ingest: bool
    nodes: int
    edges: int
    mentions: int
    merges: int
    communities: int
    chunks_done: int
    llm_chunks: int = 0


class EntityOut(BaseModel):
    """An entity (merged aliases included)."""

    id: int
    name: str
    type: str
    mentions: int
    aliases: list[str]


class PassageOut(BaseModel):
    """A chunk that supports a relation."""

    chunk_id: int
    document_id: int
    source: str
    title: str | None
    text: str
    weight: float
    description: str | None
    origin: str


class RelationOut(BaseModel):
    """A relation to a neighbour, with the passages behind it (strongest first)."""

    type: str
    weight: float
    evidence: int
    direction: Literal["out", "in"]
    entity: str
    passages: list[PassageOut] = Field(default_factory=list)


class MentionOut(BaseModel):
    """Where the entity is mentioned: document, chunk, surface form and offsets."""

    document_id: int
    source: str
    chunk_id: int
    surface: str
    field: str
    start: int | None
    end: int | None
    salience: float
    origin: str


class EntityDetailOut(EntityOut):
    """An entity with its strongest relations and its mentions."""

    description: str | None
    relations: list[RelationOut]
    provenance: list[MentionOut]


class PathOut(BaseModel):
    """The entity names along a shortest path (strongest relations preferred)."""

    source: str
    target: str
    path: list[str]
    hops: int


class GraphBuildIn(Request):
    """Options of a build."""

    communities: bool = True


@router.get("/v1/kbs/{kb}/graph", response_model=GraphStatsOut)
def graph_stats(kb: str, caller: Caller, zk: Service) -> GraphStatsOut:
    """Entity, relation, mention, merge and community counts."""
    caller.check_kb(kb)
    return GraphStatsOut(kb=kb, **zk.graph.stats(kb))


@router.get("/v1/kbs/{kb}/graph/entities", response_model=list[EntityOut])
def search_entities(
    kb: str,
    caller: Caller,
    zk: Service,
    q: Annotated[str, Query(max_length=200, description="Part of a name; empty: all.")] = "",
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> list[EntityOut]:
    """Entities whose name or an alias contains ``q`` (case, width, script and punctuation
    normalised): exact matches first, then prefixes, then the most mentioned."""
    caller.check_kb(kb)
    return [EntityOut(**e) for e in zk.graph.entities(kb, q, limit)]


@router.get("/v1/kbs/{kb}/graph/entities/{entity:path}", response_model=EntityDetailOut)
def show_entity(
    kb: str,
    entity: str,
    caller: Caller,
    zk: Service,
    limit: Annotated[int, Query(ge=1, le=200, description="Relations and mentions.")] = 20,
    passages: Annotated[int, Query(ge=0, le=20, description="Passages per relation.")] = 3,
) -> EntityDetailOut:
    """An entity (by name or alias): its neighbours with relation types and weights, the
    passages (chunks) behind each relation, and where it is mentioned."""
    caller.check_kb(kb)
    data: dict[str, Any] = zk.graph.show(kb, entity, limit=limit, passages=passages)
    return EntityDetailOut.model_validate(data)


@router.get("/v1/kbs/{kb}/graph/path", response_model=PathOut)
def shortest_path(kb: str, a: Name, b: Name, caller: Caller, zk: Service) -> PathOut:
    """A shortest path between entities ``a`` and ``b`` (404 when they are not connected)."""
    caller.check_kb(kb)
    names = zk.graph.path(kb, a, b)
    return PathOut(source=names[0], target=names[-1], path=names, hops=len(names) - 1)


@router.get(
    "/v1/kbs/{kb}/graph/export",
    response_class=Response,
    responses={200: {"content": {"application/xml": {}, "application/json": {},
                                 "application/zip": {}}}},
)
def export_graph(
    kb: str,
    caller: Caller,
    zk: Service,
    fmt: Annotated[Literal["graphml", "json", "csv"], Query(alias="format")] = "graphml",
) -> Response:
    """Download the graph: GraphML (networkx, Gephi, yEd), JSON, or CSV (a zip of
    ``nodes.csv`` and ``edges.csv``). Built in memory."""
    caller.check_kb(kb)
    name, media, data = zk.graph.export_bytes(kb, fmt)
    return Response(
        data,
        media_type=media,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
                 "X-Content-Type-Options": "nosniff"},
    )


@router.post("/v1/kbs/{kb}/graph/build", response_model=JobOut, status_code=202)
def build_graph(
    kb: str, caller: Caller, zk: Service, state: State, body: GraphBuildIn | None = None
) -> JobOut:
    """Extract entities and relations (fast rules extractor, no LLM) for the chunks not yet
    extracted, then recompute communities; runs in the background (poll the job; its
    ``result`` has the counts). Safe to repeat: only new chunks are extracted."""
    caller.check_kb(kb, Level.WRITE)
    options = body or GraphBuildIn()
    return job_out(zk.jobs.submit_graph(kb, communities=options.communities))
