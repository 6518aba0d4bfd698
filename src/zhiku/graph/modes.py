"""Search modes: the hybrid searcher's and the graph's, without loading either."""

from __future__ import annotations

from typing import Literal

from typing_extensions import TypeIs

from zhiku.retrieval.types import Mode

GraphMode = Literal["local", "global", "mix"]
SearchMode = Mode | GraphMode
GRAPH_MODES: tuple[str, ...] = ("local", "global", "mix")
MODES: tuple[str, ...] = ("hybrid", "keyword", "vector", *GRAPH_MODES)


def is_graph_mode(mode: str) -> TypeIs[GraphMode]:
    """Whether ``mode`` is served by the graph (rather than the hybrid searcher)."""
    return mode in GRAPH_MODES
