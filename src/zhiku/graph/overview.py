"""Subgraphs to draw: the most mentioned entities with the relations among them, or one
entity's neighbourhood (what an explorer adds when a node is expanded)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zhiku.graph.store import GraphStore
from zhiku.graph.types import Edge, Node

if TYPE_CHECKING:
    from zhiku.service import Zhiku

EDGES_PER_NODE = 8
"""At most this many relations per node are returned (the strongest), so a dense graph stays
drawable."""


def _node(n: Node) -> dict[str, Any]:
    return {"id": n.id, "name": n.name, "type": n.type, "mentions": n.mention_count}


def _edge(e: Edge) -> dict[str, Any]:
    return {"source": e.source_id, "target": e.target_id, "type": e.type,
            "weight": round(e.weight, 3), "evidence": e.evidence_count}


def _among(edges: list[Edge], ids: set[int], cap: int) -> list[Edge]:
    inside = [e for e in edges if e.source_id in ids and e.target_id in ids]
    return sorted(inside, key=lambda e: (-e.weight, e.source_id, e.target_id, e.type))[:cap]


def subgraph(zk: Zhiku, kb_name: str, limit: int = 300, around: str | int | None = None
             ) -> dict[str, Any]:
    """The ``limit`` most mentioned entities and the strongest relations among them; with
    ``around`` (an entity name or alias, or a node id), that entity and its ``limit`` strongest
    neighbours instead. ``total`` is the graph's node count."""
    kb = zk.kb(kb_name)
    graph = GraphStore(zk.db)
    if around is None:
        nodes = graph.find_nodes(kb.id, "", limit)
        ids = {n.id for n in nodes}
        edges = graph.edges(kb.id, sorted(ids)) if ids else []
        center = None
    else:
        start = graph.node(kb.id, around)
        touching = sorted(graph.edges(kb.id, [start.id]), key=lambda e: -e.weight)
        neighbours: list[int] = []
        for e in touching:
            other = e.target_id if e.source_id == start.id else e.source_id
            if other not in neighbours:
                neighbours.append(other)
        ids = {start.id, *neighbours[:limit]}
        found = graph.nodes(kb.id, sorted(ids))
        nodes = [found[i] for i in [start.id, *neighbours[:limit]] if i in found]
        edges = graph.edges(kb.id, sorted(ids))
        center = start.id
    total = graph.stats(kb.id).get("nodes", len(nodes))
    return {
        "kb": kb.name, "center": center, "total": total,
        "nodes": [_node(n) for n in nodes],
        "edges": [_edge(e) for e in _among(edges, ids, EDGES_PER_NODE * max(1, len(ids)))],
    }
