"""Approximate vector search for the embedded backend, derived from the database.

Each (knowledge base, model) with at least ``min_chunks`` vectors gets an HNSW graph
(``graph.py``) saved beside the SQLite file (``files.py``), so a restart opens it instead of
building it again. The database stays the source of truth:

* the graph is used only while it matches the knowledge base's ``vector_version``; when the
  version moves, the live chunk ids and the first bytes of their vectors (the *marks*) are read
  in one read transaction and compared with what the graph holds: vectors of deleted or
  disabled chunks are removed, new and changed ones added. This also catches changes made by
  another process, and a file left behind by an older state of the database;
* every result is checked against the live ids, so a deleted chunk is never returned;
* small changes are applied inside the search that notices them; a first build, a rebuild (a
  damaged or mismatched file, too many removals) and large catch-ups run in a background
  thread while exact search answers;
* scores are recomputed from the stored vectors, so they equal exact search's cosines.

Filtered searches search the graph with a larger window (the filter's share of the knowledge
base sets it) and fall back to exact search over the allowed vectors when the window does not
yield a full top-k; filters that leave few chunks are searched exactly.
"""

from __future__ import annotations

import logging
import math
import threading
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from zhiku.core.errors import NotFound
from zhiku.retrieval.ann import files
from zhiku.retrieval.ann.graph import Graph, GraphParams, available
from zhiku.retrieval.vector import ReadableChunks, VectorIndex, best, readable_ids
from zhiku.store.reader import EVERYTHING, PUBLIC, Reader

log = logging.getLogger(__name__)

_READ_BATCH = 4096
_MAX_WINDOW_GROWTH = 3  # times a filtered search widens its window (x4) before going exact


class VectorSource(ReadableChunks, Protocol):
    """What the index reads from the store (and which chunks a reader may read)."""

    def vector_version(self, kb_id: int) -> int: ...
    def vector_marks(self, kb_id: int, model: str) -> tuple[np.ndarray, np.ndarray]: ...
    def vector_ids(self, kb_id: int, model: str) -> np.ndarray: ...
    def edit_generation(self) -> int: ...
    def vectors_for(self, ids: list[int], model: str) -> dict[int, np.ndarray]: ...
    def snapshot(self) -> AbstractContextManager[None]: ...


@dataclass(frozen=True, slots=True)
class AnnParams:
    """Where the index files live and when the index is used."""

    folder: Path
    min_chunks: int = 20_000
    graph: GraphParams = field(default_factory=GraphParams)
    inline_rows: int = 2_000  # changes applied within a search; more go to the background
    max_removed_share: float = 0.25  # removed vectors (of the graph) that trigger a rebuild


@dataclass(slots=True)
class _State:
    graph: Graph
    ids: np.ndarray  # chunk ids the graph holds, ascending
    marks: np.ndarray  # their marks (V16), aligned with ids
    version: int
    generation: int  # the database's edit generation the graph matches
    removed: int = 0  # vectors removed since the graph was built
    unsaved: int = 0  # changes since the files were written


@dataclass(slots=True)
class _Plan:
    version: int
    generation: int
    ids: np.ndarray
    marks: np.ndarray
    add: np.ndarray
    remove: np.ndarray
    rebuild: bool


class AnnVectorIndex:
    """A ``VectorSearcher``: HNSW graphs for large knowledge bases, exact search for the rest
    and as the fallback."""

    def __init__(self, store: VectorSource, exact: VectorIndex, params: AnnParams) -> None:
        self._store = store
        self._exact = exact
        self._params = params
        self._states: dict[tuple[int, str], _State] = {}
        self._small: dict[tuple[int, str], int] = {}  # key -> version found below min_chunks
        self._locks: dict[tuple[int, str], threading.Lock] = {}
        self._workers: dict[tuple[int, str], threading.Thread] = {}
        self._guard = threading.Lock()
        self._closed = False
        self._usable = available()
        if not self._usable:
            log.info("usearch is not installed: vector search stays exact (zhiku[ann])")

    # -- the VectorSearcher interface ----------------------------------------------------------
    def search(
        self,
        kb_id: int,
        model: str,
        query: np.ndarray,
        limit: int,
        allowed: np.ndarray | None = None,
        reader: Reader = PUBLIC,
    ) -> list[tuple[int, float]]:
        """``(chunk_id, cosine)`` of the ``limit`` nearest chunks, best first, among ``allowed``
        and the chunks ``reader`` may read (a restricted chunk is never a candidate: the
        window widens, then exact search answers, so the top ``limit`` stays full)."""
        allowed = readable_ids(self._store, kb_id, allowed, reader)
        try:
            state = self._current(kb_id, model) if self._usable else None
        except (OSError, RuntimeError, ValueError, MemoryError):  # derived: exact still answers
            log.exception("vector index of knowledge base %s unavailable, searching exactly",
                          kb_id)
            state = None
        if state is None:
            # ``allowed`` already holds only what the reader may read: no second lookup
            return self._exact.search(kb_id, model, query, limit, allowed, EVERYTHING)
        return _search(state, query, limit, allowed, self._params.min_chunks)

    def invalidate(self) -> None:
        """Drop what is held in memory, after saving unsaved changes; the files of knowledge
        bases that no longer exist are deleted (the others are checked when next opened)."""
        for kb_id, model in list(self._states):
            try:
                self._store.vector_version(kb_id)
            except NotFound:
                self._states.pop((kb_id, model), None)
                with self._lock(kb_id, model):
                    files.remove(files.stem(self._params.folder, kb_id, model))
        self._save_all()
        with self._guard:
            self._states.clear()
            self._small.clear()
        self._exact.invalidate()

    def wait(self, timeout: float | None = None) -> None:
        """Wait for the background builds in flight to finish."""
        for worker in list(self._workers.values()):
            worker.join(timeout)

    def close(self) -> None:
        """Stop background builds (an unfinished one is dropped: exact search answers until it
        is built again), then save graphs with unsaved changes."""
        self._closed = True
        self.wait(600)
        self._save_all()

    # -- keeping current -----------------------------------------------------------------------
    def ensure(self, kb_id: int, model: str) -> bool:
        """Bring the graph of (``kb_id``, ``model``) up to date now, in this thread; True when
        searches will use it (False: too small, or the extra is missing)."""
        if not self._usable:
            return False
        with self._lock(kb_id, model):
            return self._sync(kb_id, model, all_work=True) is not None

    def _lock(self, kb_id: int, model: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault((kb_id, model), threading.Lock())

    def _current(self, kb_id: int, model: str) -> _State | None:
        key = (kb_id, model)
        version = self._store.vector_version(kb_id)
        state = self._states.get(key)
        if state is not None and state.version == version:
            return state
        if self._small.get(key) == version:
            return None
        worker = self._workers.get(key)
        if worker is not None and worker.is_alive():
            return None
        with self._lock(kb_id, model):
            state = self._states.get(key)
            if state is not None and state.version == version:
                return state
            return self._sync(kb_id, model, all_work=False)

    def _sync(self, kb_id: int, model: str, *, all_work: bool) -> _State | None:
        """Compare the graph with the database and apply the difference (caller holds the
        key's lock). Work above ``inline_rows`` is handed to a background thread unless
        ``all_work`` (the background thread itself, or ``ensure``).

        While the edit generation stands still only appends and whole-model drops can have
        happened, so the live ids alone (from a covering index) say what changed; after a
        delete or an edit the marks are compared too, which reads every vector's first bytes.
        A graph opened from files that match both counters is taken as it is, after a sample
        of its marks is checked against the database."""
        key = (kb_id, model)
        with self._store.snapshot():
            version = self._store.vector_version(kb_id)
            generation = self._store.edit_generation()
            state = self._states.get(key)
            if state is None:
                state = self._open(kb_id, model)
                if state is not None:
                    self._states[key] = state
                    if (state.version, state.generation) == (version, generation) and (
                        self._sample_holds(state, model)
                    ):
                        self._exact.forget(kb_id, model)
                        return state
            marks: np.ndarray | None = None
            if state is not None and state.generation == generation:
                ids = self._store.vector_ids(kb_id, model)
            else:
                ids, marks = self._store.vector_marks(kb_id, model)
            if ids.size < max(self._params.min_chunks, 1):
                self._small[key] = version
                self._states.pop(key, None)
                return None
            self._small.pop(key, None)
            plan = self._plan(state, version, generation, ids, marks)
            work = plan.ids.size if plan.rebuild else plan.add.size + plan.remove.size
            if work > self._params.inline_rows and not all_work:
                self._start_worker(kb_id, model)
                return None
            state = self._apply(kb_id, model, state, plan)
        self._states[key] = state
        self._exact.forget(kb_id, model)
        if state.unsaved > max(1_000, state.ids.size // 10) or all_work:
            self._save(kb_id, model, state)
        return state

    def _sample_holds(self, state: _State, model: str, size: int = 64) -> bool:
        """Whether a sample of the graph's ids are live with the marks it holds (a database
        swapped under its files fails this)."""
        picks = np.unique(np.linspace(0, state.ids.size - 1, min(size, state.ids.size))
                          .astype(np.int64))
        ids = state.ids[picks]
        got = self._store.vectors_for(ids.tolist(), model)
        return len(got) == ids.size and all(
            _mark(got[int(i)]) == state.marks[p] for i, p in zip(ids, picks, strict=True)
        )

    def _plan(
        self, state: _State | None, version: int, generation: int, ids: np.ndarray,
        marks: np.ndarray | None,
    ) -> _Plan:
        """What to remove and add; without ``marks`` (nothing changed in place) the marks of
        held ids are carried over and those of added ones filled in as they are read."""
        none = np.zeros(0, dtype=np.int64)
        known = np.zeros(ids.size, dtype="V16") if marks is None else marks.copy()
        if state is None or state.ids.size == 0:
            return _Plan(version, generation, ids, known, ids, none, rebuild=True)
        pos = np.minimum(np.searchsorted(state.ids, ids), state.ids.size - 1)
        held = state.ids[pos] == ids
        if marks is None:
            known[held] = state.marks[pos[held]]
            same = held
        else:
            same = held & (state.marks[pos] == marks)
        gone = state.ids[~np.isin(state.ids, ids, assume_unique=True)]
        changed = ids[held & ~same]
        remove = np.concatenate([gone, changed])
        removed = state.removed + remove.size
        if removed > self._params.max_removed_share * max(state.ids.size, 1):
            return _Plan(version, generation, ids, known, ids, none, rebuild=True)
        return _Plan(version, generation, ids, known, ids[~same], remove, rebuild=False)

    def _apply(self, kb_id: int, model: str, state: _State | None, plan: _Plan) -> _State:
        dim = self._dim(plan, model, state)
        if plan.rebuild or state is None or state.graph.dim != dim:
            graph = Graph.empty(dim, self._params.graph)
            removed = 0
            add = plan.ids
            log.info("building the vector index of knowledge base %s (%s): %d vectors",
                     kb_id, model, plan.ids.size)
        else:
            graph = state.graph
            graph.remove(plan.remove)
            removed = state.removed + int(plan.remove.size)
            add = plan.add
        held, held_marks = self._add(graph, model, add)
        ids, marks = plan.ids, plan.marks
        marks[np.searchsorted(ids, held)] = held_marks
        if held.size != add.size:  # vectors that vanished are not in the graph: keep it exact
            lost = np.setdiff1d(add, held, assume_unique=True)
            keep = ~np.isin(ids, lost, assume_unique=True)
            ids, marks = ids[keep], marks[keep]
        unsaved = (0 if state is None else state.unsaved) + int(add.size + plan.remove.size)
        return _State(graph, ids, marks, plan.version, plan.generation, removed, unsaved)

    def _dim(self, plan: _Plan, model: str, state: _State | None) -> int:
        probe = plan.ids[:1].tolist()
        got = self._store.vectors_for(probe, model)
        if got:
            return int(next(iter(got.values())).shape[0])
        return state.graph.dim if state is not None else 0

    def _add(self, graph: Graph, model: str, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Read the vectors of ``ids`` in batches and add them; the ids actually added and
        their marks."""
        added: list[np.ndarray] = []
        marks: list[np.ndarray] = []
        for start in range(0, ids.size, _READ_BATCH):
            if self._closed:
                raise _Closed
            batch = ids[start : start + _READ_BATCH].tolist()
            got = self._store.vectors_for(batch, model)
            keys = np.asarray([i for i in batch if i in got and got[i].shape[0] == graph.dim],
                              dtype=np.int64)
            if keys.size:
                graph.add(keys, np.stack([got[int(i)] for i in keys]))
                added.append(keys)
                marks.append(np.asarray([_mark(got[int(i)]) for i in keys], dtype="V16"))
        if not added:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype="V16")
        return np.concatenate(added), np.concatenate(marks)

    def _start_worker(self, kb_id: int, model: str) -> None:
        key = (kb_id, model)
        with self._guard:
            if self._closed or (key in self._workers and self._workers[key].is_alive()):
                return
            worker = threading.Thread(
                target=self._background, args=(kb_id, model), name="zhiku-vector-index",
                daemon=True,
            )
            self._workers[key] = worker
            worker.start()

    def _background(self, kb_id: int, model: str) -> None:
        try:
            with self._lock(kb_id, model):
                self._sync(kb_id, model, all_work=True)
        except _Closed:
            pass
        except Exception:  # exact search keeps answering; the next change tries again
            log.exception("building the vector index of knowledge base %s failed", kb_id)

    # -- files ---------------------------------------------------------------------------------
    def _open(self, kb_id: int, model: str) -> _State | None:
        """The saved graph, or ``None`` (missing, damaged or another index: built again)."""
        base = files.stem(self._params.folder, kb_id, model)
        try:
            header = files.read_header(base)
            if header is None:
                return None
            if (header.format, header.kb_id, header.model) != (files.FORMAT, kb_id, model):
                raise ValueError("the header names another index")
            files.check(base, header)
            graph = Graph.load(files.part(base, "graph"), self._params.graph)
            ids, marks = files.read_keys(base)
            if graph.size != ids.size or ids.size != marks.size or graph.dim != header.dim:
                raise ValueError("the graph and its ids disagree")
        except (ValueError, OSError) as exc:
            log.warning("vector index of knowledge base %s (%s) unusable, building it again: %s",
                        kb_id, model, exc)
            files.remove(base)
            return None
        return _State(graph, ids, marks, header.version, header.generation)

    def _save(self, kb_id: int, model: str, state: _State) -> None:
        base = files.stem(self._params.folder, kb_id, model)
        try:
            self._params.folder.mkdir(parents=True, exist_ok=True)
            state.graph.save(files.part(base, "graph.tmp"))
            header = files.Header(files.FORMAT, kb_id, model, state.graph.dim, state.version,
                                  state.generation, int(state.ids.size), {})
            files.write(base, header, state.ids, state.marks)
            state.unsaved = 0
        except OSError:  # the index is derived: a failed save costs a rebuild, nothing else
            log.exception("saving the vector index of knowledge base %s failed", kb_id)

    def _save_all(self) -> None:
        for (kb_id, model), state in list(self._states.items()):
            if state.unsaved:
                with self._lock(kb_id, model):
                    self._save(kb_id, model, state)


def _mark(vector: np.ndarray) -> np.void:
    """The first 16 bytes of a stored vector (zero-padded), as ``vector_marks`` reads them."""
    raw = np.ascontiguousarray(vector, dtype=np.float32).tobytes()[:16].ljust(16, b"\0")
    return np.frombuffer(raw, dtype="V16")[0]


class _Closed(Exception):
    """The index was closed while a graph was being built."""


def _search(
    state: _State, query: np.ndarray, limit: int, allowed: np.ndarray | None, exact_below: int
) -> list[tuple[int, float]]:
    """Search the graph, keep live (and allowed) ids, and score them exactly."""
    graph = state.graph
    if query.shape[0] != graph.dim or limit <= 0 or state.ids.size == 0:
        return []
    q = query.astype(np.float32)
    live = state.ids
    if allowed is not None:
        live = np.intersect1d(live, allowed)
        if live.size <= max(exact_below, limit):
            return _score(graph, live, q, limit)
    want = min(limit, live.size)
    window = min(state.ids.size, math.ceil(limit * state.ids.size / max(live.size, 1) * 2)
                 if allowed is not None else limit)
    for _ in range(_MAX_WINDOW_GROWTH + 1):
        keys = graph.search(q, window)
        pos = np.minimum(np.searchsorted(live, keys), live.size - 1)
        found = keys[live[pos] == keys]
        if found.size >= want:
            return _score(graph, found, q, limit)
        if window >= state.ids.size:
            break  # the graph missed some even when asked for all: exact gives a full top-k
        window = min(state.ids.size, window * 4)
    return _score(graph, live, q, limit)


def _score(graph: Graph, ids: np.ndarray, q: np.ndarray, limit: int) -> list[tuple[int, float]]:
    """The best ``limit`` of ``ids`` by exact inner product with ``q``."""
    if ids.size == 0:
        return []
    scores = np.empty(ids.size, dtype=np.float32)
    for start in range(0, ids.size, 65_536):
        part = ids[start : start + 65_536]
        scores[start : start + part.size] = graph.vectors(part) @ q
    return best(ids, scores, limit)
