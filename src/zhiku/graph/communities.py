"""Communities of the entity graph (Louvain, networkx) and their summaries.

Without an LLM a summary lists the community's central members, its entity types and its key
terms; with one (any ``TextModel``), the model writes a short paragraph from the same facts.
Communities are derived data: recomputed on demand, never the source of truth.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

import networkx as nx

from zhiku.graph.types import Edge, Node

Summarizer = Callable[[str], str]
SUMMARY_PROMPT = (
    "Summarise in 2-3 sentences what connects these entities of a knowledge base, for a reader "
    "choosing where to search. Write in the language of the names.\n\n{facts}\n\nSummary:"
)


def to_networkx(nodes: Sequence[Node], edges: Sequence[Edge]) -> nx.Graph:
    """An undirected weighted graph of canonical nodes (parallel relations summed)."""
    g = nx.Graph()
    for n in nodes:
        g.add_node(n.id, name=n.name, type=n.type, mentions=n.mention_count)
    for e in edges:
        if e.source_id in g and e.target_id in g:
            w = g[e.source_id][e.target_id]["weight"] if g.has_edge(e.source_id, e.target_id) else 0
            g.add_edge(e.source_id, e.target_id, weight=w + e.weight)
    return g


def detect(g: nx.Graph, *, resolution: float = 1.0, min_size: int = 3, seed: int = 7
           ) -> list[list[tuple[int, float]]]:
    """Louvain communities of at least ``min_size`` nodes, each ranked by weighted degree."""
    if g.number_of_edges() == 0:
        return []
    found = nx.community.louvain_communities(g, weight="weight", resolution=resolution, seed=seed)
    out: list[list[tuple[int, float]]] = []
    for members in found:
        if len(members) < min_size:
            continue
        degree = {n: float(g.degree(n, weight="weight")) for n in members}
        out.append(sorted(degree.items(), key=lambda kv: (-kv[1], kv[0])))
    out.sort(key=len, reverse=True)
    return out


def facts(g: nx.Graph, members: Sequence[tuple[int, float]], top: int = 12) -> str:
    """The plain-text facts of a community: central members, types and key terms."""
    names = [g.nodes[n]["name"] for n, _ in members if g.nodes[n]["type"] != "term"][:top]
    terms = [g.nodes[n]["name"] for n, _ in members if g.nodes[n]["type"] == "term"][:8]
    types = Counter(g.nodes[n]["type"] for n, _ in members if g.nodes[n]["type"] != "term")
    kinds = ", ".join(f"{t} {c}" for t, c in types.most_common(4))
    text = f"Members ({len(members)} entities; {kinds}): " + "; ".join(names)
    return text + (f". Key terms: {', '.join(terms)}" if terms else "")


def summarize(g: nx.Graph, members: Sequence[tuple[int, float]],
              llm: Summarizer | None = None) -> tuple[str, str]:
    """``(title, summary)`` of one community: top members, and an LLM paragraph if given."""
    names = [g.nodes[n]["name"] for n, _ in members if g.nodes[n]["type"] != "term"]
    title = " · ".join(names[:3]) or g.nodes[members[0][0]]["name"]
    text = facts(g, members)
    if llm is not None:
        text = llm(SUMMARY_PROMPT.format(facts=text)).strip() + "\n" + text
    return title, text
