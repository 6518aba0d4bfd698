"""Export the graph: GraphML (networkx, Gephi, yEd), JSON, or CSV (nodes and edges files)."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path

import networkx as nx

from zhiku.core.errors import InvalidInput
from zhiku.graph.types import Edge, Node

FORMATS = ("graphml", "json", "csv")


def to_multidigraph(nodes: Sequence[Node], edges: Sequence[Edge]) -> nx.MultiDiGraph:
    """Nodes keep name, type, mentions and aliases; one edge per relation type."""
    g = nx.MultiDiGraph()
    for n in nodes:
        g.add_node(str(n.id), name=n.name, type=n.type, mentions=n.mention_count,
                   aliases="|".join(n.aliases), description=n.description or "")
    for e in edges:
        g.add_edge(str(e.source_id), str(e.target_id), key=e.type, type=e.type,
                   weight=round(e.weight, 4), evidence=e.evidence_count)
    return g


def write(nodes: Sequence[Node], edges: Sequence[Edge], fmt: str, out: Path) -> list[Path]:
    """Write the graph to ``out`` (CSV: ``<stem>.nodes.csv`` and ``<stem>.edges.csv``)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "graphml":
        nx.write_graphml(to_multidigraph(nodes, edges), out)
        return [out]
    if fmt == "json":
        data = {
            "nodes": [{"id": n.id, "name": n.name, "type": n.type, "mentions": n.mention_count,
                       "aliases": n.aliases, "description": n.description} for n in nodes],
            "edges": [{"source": e.source_id, "target": e.target_id, "type": e.type,
                       "weight": round(e.weight, 4), "evidence": e.evidence_count}
                      for e in edges],
        }
        out.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        return [out]
    if fmt == "csv":
        stem = out.with_suffix("")
        node_path, edge_path = Path(f"{stem}.nodes.csv"), Path(f"{stem}.edges.csv")
        with node_path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["id", "name", "type", "mentions", "aliases"])
            w.writerows([n.id, n.name, n.type, n.mention_count, "|".join(n.aliases)]
                        for n in nodes)
        with edge_path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["source", "target", "type", "weight", "evidence"])
            w.writerows([e.source_id, e.target_id, e.type, round(e.weight, 4), e.evidence_count]
                        for e in edges)
        return [node_path, edge_path]
    raise InvalidInput(f"export format is one of {', '.join(FORMATS)}")
