"""An HNSW graph of chunk vectors keyed by chunk id (usearch, the ``ann`` extra)."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from zhiku.core.errors import MissingDependency


def available() -> bool:
    """Whether the ``ann`` extra is installed (found, not imported: a search of a small
    knowledge base never needs the library, and importing it costs a one-shot command time)."""
    return importlib.util.find_spec("usearch") is not None


def _index_class() -> Any:
    try:
        from usearch.index import Index
    except ImportError as exc:
        raise MissingDependency(
            "the approximate vector index needs usearch: pip install 'zhiku[ann]'"
        ) from exc
    return Index


# A search's candidate list is ``ef_search`` for a graph of up to this many vectors and grows in
# proportion above it: a walk of a larger graph needs a longer list for the same recall. On the
# 256-d hashing vectors of Chinese news (M 16, ef_construction 200), recall@10 against exact
# search is 0.98 at 512 for 100k vectors; for 1M vectors it is 0.92 at 512 and 0.951 at 1280.
EF_GROWTH_VECTORS = 400_000
MAX_EF_SEARCH = 4096


@dataclass(frozen=True, slots=True)
class GraphParams:
    """How the graph is built and searched."""

    connectivity: int = 16
    ef_construction: int = 200
    ef_search: int = 512
    threads: int = 0  # 0: every core (building, see ``Graph.add``); searches use one thread


def expansion(ef_search: int, size: int, count: int) -> int:
    """The candidate list of a search for ``count`` results in a graph of ``size`` vectors
    (see ``EF_GROWTH_VECTORS``), never shorter than ``count``."""
    grown = ef_search * size // EF_GROWTH_VECTORS if size > EF_GROWTH_VECTORS else ef_search
    return max(count, min(MAX_EF_SEARCH, grown))


class Graph:
    """Inner-product HNSW over float32 vectors (Zhiku's vectors are unit length, so the inner
    product is the cosine that exact search ranks by)."""

    def __init__(self, index: Any, params: GraphParams) -> None:
        self._index = index
        self._params = params
        index.expansion_search = params.ef_search

    @classmethod
    def empty(cls, dim: int, params: GraphParams) -> Graph:
        index = _index_class()(
            ndim=dim,
            metric="ip",
            dtype="f32",
            connectivity=params.connectivity,
            expansion_add=params.ef_construction,
            expansion_search=params.ef_search,
        )
        return cls(index, params)

    @classmethod
    def load(cls, path: Path, params: GraphParams) -> Graph:
        """The graph saved at ``path`` (``ValueError`` when it is not one)."""
        index = _index_class().restore(str(path))
        if index is None:
            raise ValueError(f"{path} holds no index")
        return cls(index, params)

    @property
    def dim(self) -> int:
        return int(self._index.ndim)

    @property
    def size(self) -> int:
        """Vectors present (removed ones excluded)."""
        return int(self._index.size)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add vectors; on one thread while the graph stays no larger than ``ef_search``.

        Concurrent inserts leave a few nodes that no walk reaches. A larger graph is searched
        approximately anyway, but a graph that a search walks whole (its candidate list holds
        every node) must miss nothing, so it is built on one thread: connected, and the same
        graph every time."""
        if ids.size:
            whole = self.size + ids.size <= self._params.ef_search
            self._index.add(
                ids.astype(np.uint64), np.ascontiguousarray(vectors, dtype=np.float32),
                threads=1 if whole else self._params.threads,
            )

    def remove(self, ids: np.ndarray) -> None:
        if ids.size:
            self._index.remove(ids.astype(np.uint64))

    def search(self, query: np.ndarray, count: int) -> np.ndarray:
        """Ids of about the ``count`` nearest vectors, nearest first."""
        self._index.expansion_search = expansion(self._params.ef_search, self.size, count)
        matches = self._index.search(query.astype(np.float32), count, threads=1)
        return np.asarray(matches.keys, dtype=np.int64)

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """The stored vectors of ``ids`` (each must be present), one row each."""
        if ids.size == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        got = self._index.get(ids.astype(np.uint64), dtype=np.float32)
        return np.stack(got).astype(np.float32, copy=False)

    def save(self, path: Path) -> None:
        self._index.save(str(path))
