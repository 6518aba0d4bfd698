"""The knowledge graph's operations on the knowledge bases of one workspace: build, estimate,
communities, inspection, merges and export (``zk.graph``, what the CLI and HTTP API call)."""

from __future__ import annotations

import io
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from zhiku.core.errors import InvalidInput, NotFound, ProviderError
from zhiku.graph import communities as comm
from zhiku.graph import export as exporter
from zhiku.graph import extract_llm as llmx
from zhiku.graph.hook import RULES, extract_chunks
from zhiku.graph.overview import subgraph
from zhiku.graph.resolve import NameRecord, suggest_merges
from zhiku.graph.store import GraphStore
from zhiku.graph.types import ChunkText, Extraction
from zhiku.models.embedders.base import Embedder, embed_texts
from zhiku.models.llm.json import JsonRepairError
from zhiku.store.records import KbResolver, KnowledgeBase


@dataclass(slots=True)
class BuildReport:
    """What a ``build`` did; ``stopped`` says why it ended early (budget, provider error)."""

    chunks: int = 0
    cached: int = 0
    calls: int = 0
    retries: int = 0
    failed: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    seconds: float = 0.0
    stopped: str | None = None


class GraphOps:
    """The graph operations of one workspace, over its graph store."""

    def __init__(
        self,
        graph: GraphStore,
        kb: KbResolver,
        save_settings: Callable[[int, dict[str, Any]], KnowledgeBase],
        embedder_for: Callable[[str], Embedder],
        browse: Callable[[KnowledgeBase], None] | None = None,
    ) -> None:
        """``kb(name)``: the workspace's knowledge base; ``save_settings(kb_id, settings)``
        stores a knowledge base's settings; ``embedder_for(name)``: an embedder (name
        embeddings when resolving aliases); ``browse(kb)`` raises when the current reader may
        not see the whole graph of ``kb`` (entities and passages come from every document)."""
        self._graph = graph
        self._kb = kb
        self._save_settings = save_settings
        self._embedder_for = embedder_for
        self._browse = browse

    def _shown(self, kb_name: str) -> KnowledgeBase:
        """The knowledge base whose graph is about to be shown, if the reader may see it."""
        kb = self._kb(kb_name)
        if self._browse is not None:
            self._browse(kb)
        return kb

    def set_graph(self, kb_name: str, enabled: bool) -> KnowledgeBase:
        """Turn extraction during ingestion on or off (``zhiku kb set-graph``)."""
        kb = self._kb(kb_name)
        return self._save_settings(kb.id, {**kb.settings, "graph": enabled})

    def build(
        self,
        kb_name: str,
        *,
        llm: llmx.TextModel | None = None,
        pricing: llmx.Pricing | None = None,
        budget: float | None = None,
        max_tokens: int | None = None,
        batch_size: int = 4,
    ) -> BuildReport:
        """Extract for every chunk not yet done by this extractor (rules, or ``llm``);
        resumable."""
        kb = self._kb(kb_name)
        graph = self._graph
        started = time.perf_counter()
        report = BuildReport()
        after = 0
        extractor = RULES if llm is None else f"llm:{llmx.PROMPT_VERSION}:{llm.name}"
        while report.stopped is None:
            page = graph.pending_chunks(kb.id, extractor, after_id=after, limit=500)
            if not page:
                break
            after = page[-1].chunk_id
            if llm is None:
                graph.write(kb.id, extract_chunks(page), RULES)
                report.chunks += len(page)
            else:
                _llm_page(graph, kb.id, page, llm, extractor, pricing or llmx.Pricing(), budget,
                          max_tokens, batch_size, report)
        report.seconds = round(time.perf_counter() - started, 3)
        return report

    def estimate(self, kb_name: str, model: str, pricing: llmx.Pricing | None = None,
                 batch_size: int = 4) -> llmx.Estimate:
        """Tokens and cost of an LLM build before anything is spent (cached chunks are free)."""
        kb = self._kb(kb_name)
        graph = self._graph
        price = pricing or llmx.Pricing()
        est = llmx.Estimate()
        after = 0
        extractor = f"llm:{llmx.PROMPT_VERSION}:{model}"
        while page := graph.pending_chunks(kb.id, extractor, after_id=after, limit=1000):
            after = page[-1].chunk_id
            todo = [c for c in page if graph.cache_get(llmx.cache_key(model, c)) is None]
            est.chunks += len(page)
            est.cached += len(page) - len(todo)
            for batch in llmx.plan(todo, batch_size):
                tin, tout = llmx.estimate_batch(batch)
                est.calls += 1
                est.input_tokens += tin
                est.output_tokens += tout
        est.cost = round(price.cost(est.input_tokens, est.output_tokens), 6)
        return est

    def communities(self, kb_name: str, llm: llmx.TextModel | None = None,
                    resolution: float = 1.0, llm_limit: int = 50) -> int:
        """Detect communities (Louvain) and store their summaries; returns how many."""
        kb = self._kb(kb_name)
        graph = self._graph
        g = comm.to_networkx(graph.all_nodes(kb.id), graph.edges(kb.id))
        found = comm.detect(g, resolution=resolution)
        items = []
        for i, members in enumerate(found):
            summarizer = (lambda p: llm(p).text) if llm is not None and i < llm_limit else None
            title, summary = comm.summarize(g, members, summarizer)
            items.append((title, summary, members))
        graph.replace_communities(kb.id, items, origin="llm" if llm else "rules")
        return len(items)

    def stats(self, kb_name: str) -> dict[str, Any]:
        """Node, edge, mention, merge and community counts, and whether ingestion extracts."""
        kb = self._kb(kb_name)
        return {"graph_on_ingest": bool(kb.settings.get("graph")), **self._graph.stats(kb.id)}

    def entities(self, kb_name: str, query: str = "", limit: int = 20) -> list[dict[str, Any]]:
        """Entities whose name or an alias contains ``query`` (normalised): exact matches first,
        then prefixes, then the most mentioned; an empty query lists the most mentioned."""
        kb = self._shown(kb_name)
        return [{"id": n.id, "name": n.name, "type": n.type, "mentions": n.mention_count,
                 "aliases": n.aliases} for n in self._graph.find_nodes(kb.id, query, limit)]

    def show(self, kb_name: str, entity: str, limit: int = 20, passages: int = 0
             ) -> dict[str, Any]:
        """An entity with its aliases, strongest relations and where it is mentioned; with
        ``passages`` > 0 each relation carries up to that many of the passages behind it (chunk,
        document, text)."""
        kb = self._shown(kb_name)
        graph = self._graph
        node = graph.node(kb.id, entity)
        edges = sorted(graph.edges(kb.id, [node.id]), key=lambda e: -e.weight)[:limit]
        others = graph.nodes(kb.id, [e.target_id if e.source_id == node.id else e.source_id
                                     for e in edges])
        relations: list[dict[str, Any]] = [
            {"type": e.type, "weight": round(e.weight, 3), "evidence": e.evidence_count,
             "direction": "out" if e.source_id == node.id else "in",
             "entity": others[e.target_id if e.source_id == node.id else e.source_id].name}
            for e in edges
        ]
        if passages > 0:
            for rel, e in zip(relations, edges, strict=True):
                rel["passages"] = graph.evidence(kb.id, e.source_id, e.target_id, e.type, passages)
        return {"id": node.id, "name": node.name, "type": node.type, "mentions": node.mention_count,
                "aliases": node.aliases, "description": node.description, "relations": relations,
                "provenance": graph.mentions_of(kb.id, node.id, limit)}

    def path(self, kb_name: str, source: str, target: str) -> list[str]:
        """The names along a shortest path between two entities (strongest edges preferred)."""
        kb = self._shown(kb_name)
        graph = self._graph
        a, b = graph.node(kb.id, source), graph.node(kb.id, target)
        g = comm.to_networkx(graph.all_nodes(kb.id), graph.edges(kb.id))
        for _, _, data in g.edges(data=True):
            data["cost"] = 1.0 / (1.0 + data["weight"])
        try:
            ids = nx.shortest_path(g, a.id, b.id, weight="cost")
        except nx.NetworkXNoPath:
            raise NotFound(f"no path between '{a.name}' and '{b.name}'") from None
        return [g.nodes[i]["name"] for i in ids]

    def resolve(self, kb_name: str, *, string_threshold: float = 0.92,
                embed_threshold: float = 0.9, embeddings: bool = True, apply: bool = True
                ) -> list[dict[str, Any]]:
        """Merge aliases by string (and name-embedding) similarity; every merge keeps its reason."""
        kb = self._kb(kb_name)
        graph = self._graph
        records = [NameRecord(*r) for r in graph.name_records(kb.id)]
        vectors = None
        if embeddings and records:
            embedder = self._embedder_for(kb.embedder)
            vectors = np.asarray(embed_texts(embedder, [r.name for r in records]))
        found = suggest_merges(records, vectors, string_threshold=string_threshold,
                               embed_threshold=embed_threshold)
        out = []
        for s in found:
            merge_id = (graph.merge(kb.id, s.node_id, s.into_id, s.reason, s.score)
                        if apply else None)
            out.append({"merge_id": merge_id, "node_id": s.node_id, "into_id": s.into_id,
                        "reason": s.reason, "score": round(s.score, 4)})
        return out

    def merge(self, kb_name: str, alias: str, into: str, reason: str = "manual") -> int:
        """Merge one entity into another by hand; returns the merge id."""
        kb = self._kb(kb_name)
        graph = self._graph
        return graph.merge(kb.id, graph.node(kb.id, alias).id, graph.node(kb.id, into).id, reason,
                           1.0)

    def unmerge(self, kb_name: str, merge_id: int) -> None:
        """Undo a merge."""
        self._graph.unmerge(self._kb(kb_name).id, merge_id)

    def merges(self, kb_name: str) -> list[dict[str, Any]]:
        """Every merge, with its reason."""
        return self._graph.merges(self._shown(kb_name).id)

    def export(self, kb_name: str, fmt: str, out: Path) -> list[Path]:
        """Write the graph as GraphML, JSON or CSV."""
        kb = self._shown(kb_name)
        graph = self._graph
        return exporter.write(graph.all_nodes(kb.id), graph.edges(kb.id), fmt, out)

    def export_bytes(self, kb_name: str, fmt: str) -> tuple[str, str, bytes]:
        """The export as one download: ``(file name, media type, bytes)``; CSV is a zip of
        ``nodes.csv`` and ``edges.csv``. Built in memory (a temporary directory), so it suits
        graphs of up to a few hundred thousand edges."""
        if fmt not in exporter.FORMATS:
            raise InvalidInput(f"export format is one of {', '.join(exporter.FORMATS)}")
        self._kb(kb_name)
        stem = "graph"
        with tempfile.TemporaryDirectory(prefix="zhiku-export-") as tmp:
            written = self.export(kb_name, fmt, Path(tmp) / f"{stem}.{fmt}")
            if fmt != "csv":
                media = "application/xml" if fmt == "graphml" else "application/json"
                return f"{stem}.{fmt}", media, written[0].read_bytes()
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
                for p in written:
                    zf.write(p, p.name.removeprefix(f"{stem}."))
            return f"{stem}.csv.zip", "application/zip", buf.getvalue()

    def subgraph(self, kb_name: str, limit: int = 300, around: str | int | None = None
                 ) -> dict[str, Any]:
        """What to draw: the most mentioned entities, or one entity's neighbourhood (see
        ``overview.subgraph``)."""
        return subgraph(self._graph, self._shown(kb_name), limit, around)


def _llm_page(
    graph: GraphStore, kb_id: int, page: list[ChunkText], llm: llmx.TextModel,
    extractor: str, pricing: llmx.Pricing, budget: float | None, max_tokens: int | None,
    batch_size: int, report: BuildReport,
) -> None:
    todo: list[ChunkText] = []
    done: list[tuple[ChunkText, Extraction]] = []
    for chunk in page:
        cached = graph.cache_get(llmx.cache_key(llm.name, chunk))
        if cached is None:
            todo.append(chunk)
        else:
            done.append((chunk, llmx.locate(chunk, llmx.loads(cached))))
            report.cached += 1
    if done:
        graph.write(kb_id, done, extractor, origin="llm")
        report.chunks += len(done)
    for batch in llmx.plan(todo, batch_size):
        est_in, est_out = llmx.estimate_batch(batch)
        over_cost = budget is not None and report.cost + pricing.cost(est_in, est_out) > budget
        tokens = report.input_tokens + report.output_tokens + est_in + est_out
        if over_cost or (max_tokens is not None and tokens > max_tokens):
            report.stopped = "budget"
            return
        try:
            results = _call(llm, batch, pricing, report)
        except ProviderError as exc:
            report.stopped = f"provider error: {exc.message}"
            return
        if results is None:
            report.failed += len(batch.chunks)
            continue
        pairs = []
        for chunk, ex in zip(batch.chunks, results, strict=True):
            graph.cache_put(llmx.cache_key(llm.name, chunk), llm.name, llmx.PROMPT_VERSION,
                            llmx.dumps(ex), (0, 0))
            pairs.append((chunk, llmx.locate(chunk, ex)))
        graph.write(kb_id, pairs, extractor, origin="llm")
        report.chunks += len(pairs)


def _call(llm: llmx.TextModel, batch: llmx.Batch, pricing: llmx.Pricing,
          report: BuildReport) -> list[Extraction] | None:
    """One call, and one retry that shows the model its parse error; None if both fail."""
    prompt = batch.prompt()
    for attempt in range(2):
        reply = llm(prompt)
        report.calls += 1
        report.input_tokens += reply.input_tokens
        report.output_tokens += reply.output_tokens
        report.cost += pricing.cost(reply.input_tokens, reply.output_tokens)
        try:
            return llmx.parse(reply.text, len(batch.chunks))
        except JsonRepairError as exc:
            if attempt == 0:
                report.retries += 1
                prompt = batch.prompt() + llmx.RETRY.format(error=exc)
    return None
