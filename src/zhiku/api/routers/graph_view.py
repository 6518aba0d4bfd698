"""``/v1/kbs/{kb}/graph/subgraph``: nodes and edges to draw — the most mentioned entities with
the relations among them, or one entity's neighbourhood (the console's graph explorer uses it
to start and to expand; ``…/graph/entities/{name}`` gives the passages behind each relation)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from zhiku.api.deps import Caller, Service
from zhiku.api.schemas import ERRORS, MAX_ID
from zhiku.core.errors import InvalidInput

router = APIRouter(tags=["knowledge graph"], responses=ERRORS)


class GraphNodeOut(BaseModel):
    """An entity to draw."""

    id: int
    name: str
    type: str
    mentions: int


class GraphEdgeOut(BaseModel):
    """A relation between two drawn entities (node ids), aggregated over its evidence."""

    source: int
    target: int
    type: str
    weight: float
    evidence: int


class SubgraphOut(BaseModel):
    """``center``: the entity expanded (None for the overview); ``total``: the graph's size."""

    kb: str
    center: int | None
    total: int
    nodes: list[GraphNodeOut]
    edges: list[GraphEdgeOut]


@router.get("/v1/kbs/{kb}/graph/subgraph", response_model=SubgraphOut)
def subgraph(
    kb: str,
    caller: Caller,
    zk: Service,
    limit: Annotated[int, Query(ge=1, le=2000, description="Nodes (neighbours).")] = 300,
    around: Annotated[str | None, Query(max_length=200, description="An entity name.")] = None,
    around_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="An entity id.")] = None,
) -> SubgraphOut:
    """The ``limit`` most mentioned entities and the strongest relations among them; with
    ``around`` or ``around_id``, that entity and its strongest neighbours instead."""
    caller.check_kb(kb)
    if around is not None and around_id is not None:
        raise InvalidInput("give 'around' or 'around_id', not both")
    start = around_id if around_id is not None else around
    return SubgraphOut.model_validate(zk.graph.subgraph(kb, limit, start))
