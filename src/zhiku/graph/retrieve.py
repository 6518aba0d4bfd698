"""Graph-augmented retrieval. Every mode returns chunks (``Hit``), never bare graph facts.

- ``local``: entities named in the question (extractor + n-gram lookup of node keys), weighted
  by rarity → the chunks that mention them, plus their strongest neighbours' own chunks.
- ``global``: community summaries scored against the question → chunks of their top members.
- ``mix``: hybrid chunk search, the local graph list, and a bridge expansion (entities of the
  top hybrid chunks → the chunks *about* those entities: the second hop of a multi-hop
  question) fused with reciprocal-rank fusion.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import rjieba

from zhiku.graph.extract_rules import entity_names
from zhiku.graph.modes import GraphMode
from zhiku.graph.resolve import normalize_name
from zhiku.graph.store import GraphStore
from zhiku.retrieval.fusion import fuse
from zhiku.retrieval.hydrate import HitMaker, Window, hydrate, make_hit
from zhiku.retrieval.relevance import coverage, idf_weights
from zhiku.retrieval.search import ChunkSearcher, SearchParams
from zhiku.retrieval.types import Hit
from zhiku.store.filters import SearchFilters
from zhiku.store.protocols import Store
from zhiku.store.reader import PUBLIC, Reader
from zhiku.store.records import Chunk, KnowledgeBase
from zhiku.text.indexing import index_text
from zhiku.text.lang import CJK_RE
from zhiku.text.tokenize import EN_STOPWORDS, ZH_STOPWORDS, analyze, query_terms

_WORDS_RE = re.compile(r"[\w'’\-]+")


@dataclass(frozen=True, slots=True)
class GraphParams:
    """Knobs of graph retrieval (defaults measured on HotpotQA-500, see BENCHMARKS.md)."""

    neighbours: int = 8
    neighbour_factor: float = 0.5
    seed_chunks: int = 5
    weights: tuple[float, float, float] = (1.0, 0.5, 0.7)  # hybrid, local, bridge
    communities: int = 3
    members: int = 15
    max_chunks: int = 50  # entities in more chunks than this (and max_share) are too generic
    max_share: float = 0.01


# -- pure scoring ---------------------------------------------------------------------------
def query_keys(query: str, max_words: int = 6) -> list[str]:
    """Candidate entity keys of a question: extracted names and word n-grams (longest first)."""
    keys = [normalize_name(n) for n in entity_names(query)]
    words = [w for w in _WORDS_RE.findall(query) if not CJK_RE.search(w)]
    for size in range(min(max_words, len(words)), 0, -1):
        for i in range(len(words) - size + 1):
            gram = words[i:i + size]
            if all(w.lower() in EN_STOPWORDS for w in gram) or (size == 1 and len(gram[0]) < 3):
                continue
            keys.append(normalize_name(" ".join(gram)))
    for run in re.findall(r"[\u4e00-\u9fff]+", query):
        cut = [w for w in rjieba.cut(run) if w not in ZH_STOPWORDS]
        for size in (3, 2, 1):
            for i in range(len(cut) - size + 1):
                joined = "".join(cut[i:i + size])
                if len(joined) >= 2:
                    keys.append(normalize_name(joined))
    return [k for k in dict.fromkeys(keys) if k]


def keep_longest(keys: Sequence[str]) -> list[str]:
    """Drop keys contained in a longer matched key ("temple" when "shirley temple" matched)."""
    ordered = sorted(keys, key=len, reverse=True)
    out: list[str] = []
    for k in ordered:
        if not any(_contains(longer, k) for longer in out):
            out.append(k)
    return out


def _contains(longer: str, short: str) -> bool:
    if CJK_RE.search(short):
        return short in longer
    return f" {short} " in f" {longer} "


def idf(df: int, total: int) -> float:
    """Rarity weight of an entity mentioned in ``df`` of ``total`` chunks."""
    return math.log(1.0 + total / max(df, 1))


def add_scores(into: dict[int, float], more: Mapping[int, float], factor: float = 1.0) -> None:
    """``into[k] += factor * more[k]`` for every key."""
    for k, v in more.items():
        into[k] = into.get(k, 0.0) + factor * v


def ranked(scores: Mapping[int, float]) -> list[tuple[int, float]]:
    """Best first, ties by id."""
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


# -- the retriever --------------------------------------------------------------------------
class GraphRetriever:
    """Scores chunks of one knowledge base from its graph."""

    def __init__(self, graph: GraphStore, kb: KnowledgeBase, params: GraphParams) -> None:
        self.graph = graph
        self.kb = kb
        self.params = params
        self.total = max(graph.chunks_done(kb.id), 1)

    def seeds(self, query: str) -> dict[int, float]:
        """Canonical nodes named in the question, weighted by rarity."""
        found = self.graph.resolve_keys(self.kb.id, query_keys(query))
        keys = keep_longest(list(found))
        nodes = {found[k] for k in keys}
        df = self.graph.chunk_frequency(self.kb.id, list(nodes))
        return {n: idf(df.get(n, 1), self.total) for n in nodes if self._specific(df.get(n, 1))}

    def _specific(self, df: int) -> bool:
        """Whether an entity is rare enough to lead somewhere (not "American", "film")."""
        return df <= max(self.params.max_chunks, self.total * self.params.max_share)

    def local(self, query: str) -> dict[int, float]:
        """Chunks that mention the question's entities and their closest neighbours."""
        seeds = self.seeds(query)
        scores = self._mention_scores(seeds, min_salience=0.0)
        hood = self._neighbours(seeds)
        add_scores(scores, self._mention_scores(hood, min_salience=0.85))
        return scores

    def bridge(self, seed_chunks: Sequence[int]) -> dict[int, float]:
        """Second hop: entities of the seed chunks → the chunks that are about them."""
        weights: dict[int, float] = defaultdict(float)
        rank = {cid: r for r, cid in enumerate(seed_chunks)}
        mentions = self.graph.nodes_in_chunks(list(seed_chunks))
        df = self.graph.chunk_frequency(self.kb.id, list({m.node_id for m in mentions}))
        for m in mentions:
            if self._specific(df.get(m.node_id, 1)):
                weights[m.node_id] += idf(df.get(m.node_id, 1), self.total) / (1 + rank[m.chunk_id])
        scores = self._mention_scores(weights, min_salience=0.85)
        for cid in seed_chunks:
            scores.pop(cid, None)
        return scores

    def global_(self, query: str) -> dict[int, float]:
        """Chunks of the members of the communities whose summaries match the question."""
        communities = self.graph.communities(self.kb.id)
        if not communities:
            return {}
        terms = query_terms(query)
        docs = [set(analyze(c.title + " " + c.summary)) for c in communities]
        df = {t: sum(1 for d in docs if t in d) for t in terms}
        weights = idf_weights(terms, df, len(docs))
        scored = sorted(((coverage(d, weights), c) for d, c in zip(docs, communities, strict=True)),
                        key=lambda sc: -sc[0])[: self.params.communities]
        scores: dict[int, float] = {}
        for score, community in scored:
            if score <= 0:
                continue
            members = community.members[: self.params.members]
            node_w = {n: score / (1 + i) for i, n in enumerate(members)}
            add_scores(scores, self._mention_scores(node_w, min_salience=0.0))
        return scores

    def _neighbours(self, seeds: Mapping[int, float]) -> dict[int, float]:
        if not seeds:
            return {}
        by_seed: dict[int, list[tuple[float, int]]] = defaultdict(list)
        for e in self.graph.edges(self.kb.id, list(seeds)):
            for a, b in ((e.source_id, e.target_id), (e.target_id, e.source_id)):
                if a in seeds and b not in seeds:
                    by_seed[a].append((e.weight, b))
        out: dict[int, float] = defaultdict(float)
        for seed, found in by_seed.items():
            found.sort(reverse=True)
            top = found[: self.params.neighbours]
            best = top[0][0] if top else 1.0
            for weight, node in top:
                out[node] += seeds[seed] * self.params.neighbour_factor * weight / best
        return dict(out)

    def _mention_scores(self, nodes: Mapping[int, float], min_salience: float) -> dict[int, float]:
        scores: dict[int, float] = defaultdict(float)
        for cm in self.graph.chunk_mentions(self.kb.id, list(nodes)):
            if cm.salience >= min_salience:
                scores[cm.chunk_id] += nodes[cm.node_id] * cm.salience
        return dict(scores)


# -- the searcher ---------------------------------------------------------------------------
class GraphSearcher:
    """Graph-mode search over knowledge bases; ``mix`` fuses the hybrid searcher's hits with
    the local graph list and the bridge expansion."""

    def __init__(
        self,
        graph: GraphStore,
        store: Store,
        hybrid: ChunkSearcher,
        base: SearchParams,
        params: GraphParams | None = None,
    ) -> None:
        """``base``: the search defaults (top_k, candidates, rrf_k, and the hybrid part of
        ``mix``); ``params``: the graph's own knobs."""
        self._graph = graph
        self._store = store
        self._hybrid = hybrid
        self._base = base
        self._params = params or GraphParams()

    def search(
        self,
        kbs: Sequence[KnowledgeBase],
        query: str,
        mode: GraphMode,
        *,
        top_k: int | None = None,
        filters: SearchFilters | None = None,
        min_relevance: float = 0.0,
        reader: Reader = PUBLIC,
    ) -> list[Hit]:
        """Ranked hits for ``query`` across ``kbs`` in graph mode ``mode``: only chunks
        ``reader`` may read, so entities reached through hidden chunks lead nowhere."""
        p = self._params
        k = top_k or self._base.top_k
        pool = max(self._base.candidates, k)
        lists: list[list[tuple[int, float]]] = []
        weights: list[float] = []
        hits: dict[int, Hit] = {}
        if mode == "mix":
            wanted = replace(self._base, top_k=pool, mode="hybrid", filters=filters,
                             min_relevance=min_relevance, reader=reader)
            base = self._hybrid.search(kbs, query, wanted)
            hits = {h.chunk_id: h for h in base}
            lists.append([(h.chunk_id, h.score) for h in base])
            weights.append(p.weights[0])
        for kb in kbs:
            retriever = GraphRetriever(self._graph, kb, p)
            if mode == "global":
                lists.append(ranked(retriever.global_(query))[:pool])
                weights.append(1.0)
                continue
            lists.append(ranked(retriever.local(query))[:pool])
            weights.append(p.weights[1] if mode == "mix" else 1.0)
            if mode == "mix":
                seeds = [h.chunk_id for h in hits.values() if h.kb_id == kb.id][: p.seed_chunks]
                lists.append(ranked(retriever.bridge(seeds))[:pool])
                weights.append(p.weights[2])
        fused = fuse(lists, weights, "rrf", self._base.rrf_k)
        graph_score = {cid: s for lst in lists[1 if mode == "mix" else 0:] for cid, s in lst}
        return self._hydrate(kbs, query, fused, hits, graph_score, filters, min_relevance, k,
                             reader)

    def _hydrate(
        self,
        kbs: Sequence[KnowledgeBase],
        query: str,
        fused: Sequence[tuple[int, float]],
        known: Mapping[int, Hit],
        graph_score: Mapping[int, float],
        filters: SearchFilters | None,
        min_relevance: float,
        top_k: int,
        reader: Reader,
    ) -> list[Hit]:
        """Hits of the fused list: the hybrid part's own hits keep their scores (with the graph
        and fused scores added); graph-only chunks are scored by keyword coverage. Chunks that
        fail the filters or that ``reader`` may not read are skipped."""
        kb_ids = {kb.id for kb in kbs}
        allowed: set[int] | None = None
        if (filters is not None and not filters.is_empty()) or self._store.hides_any(
            list(kb_ids), reader
        ):
            allowed = {int(i) for i in self._store.allowed_chunk_ids(list(kb_ids), filters,
                                                                     reader)}
        terms = query_terms(query)
        freqs, total = self._store.term_stats(terms)
        weights = idf_weights(terms, freqs, total)

        def maker(window: Window) -> HitMaker:
            def make(chunk: Chunk, score: float) -> Hit | None:
                cid = chunk.id
                if allowed is not None and cid not in allowed:
                    return None
                graph = graph_score.get(cid)
                if cid in known:
                    hit = known[cid]
                    hit.scores = {**hit.scores, "hybrid": hit.score, "graph": graph,
                                  "fused": score}
                    hit.score = score
                    return hit
                if chunk.kb_id not in kb_ids:
                    return None
                relevance = coverage(analyze(index_text(chunk.heading_path, chunk.text)),
                                     weights)
                if relevance < min_relevance:
                    return None
                return make_hit(chunk, window.context(chunk), window.docs[chunk.document_id],
                                score, relevance,
                                {"keyword": None, "vector": None, "graph": graph, "fused": score})

            return make

        return hydrate(self._store, fused, top_k, maker, reader=reader)
