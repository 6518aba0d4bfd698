"""Graph storage: nodes, mentions, edges with per-chunk evidence, merges, communities, cache.

Tables come from migration M004. Mentions and evidence reference their chunk with
``ON DELETE CASCADE`` and triggers keep counts and weights in step, so deleting or replacing a
document updates the graph in the same transaction, with no code here involved. A node's
canonical id is ``coalesce(merged_into, id)``; merges always point at a root.

The SQL is the portable subset of SQLite and PostgreSQL (``store/db.py``); the column ``end``
is written quoted because it is a reserved word in PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from zhiku.core.errors import InvalidInput, NotFound
from zhiku.graph.resolve import normalize_name
from zhiku.graph.types import ChunkText, Edge, Extraction, Node
from zhiku.store.db import Connection, Database

_CANON = "coalesce(n.merged_into, n.id)"
_LOCK = 0x67726170 << 32  # "grap": advisory lock keys are this plus the knowledge base id


@dataclass(slots=True)
class ChunkMention:
    """A canonical node's presence in one chunk: best salience and number of mentions."""

    node_id: int
    chunk_id: int
    salience: float
    count: int


@dataclass(slots=True)
class Community:
    """A stored community with its summary and ranked member node ids."""

    id: int
    title: str
    summary: str
    size: int
    members: list[int]


def _marks(n: int) -> str:
    return ",".join("?" * n)


class GraphStore:
    """The knowledge graph of every knowledge base in one database (SQLite or PostgreSQL)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- writing --------------------------------------------------------------------------
    def _one_writer(self, conn: Connection, kb_id: int) -> None:
        """Take the knowledge base's graph lock until the transaction ends. SQLite has one
        writer anyway; on PostgreSQL concurrent ingestion workers would otherwise update the
        same nodes' counts in different orders and deadlock."""
        self.db.advisory_lock(conn, _LOCK + kb_id)

    def write(
        self, kb_id: int, items: Sequence[tuple[ChunkText, Extraction]], extractor: str,
        origin: str = "rules",
    ) -> None:
        """Replace the graph rows of these chunks with their new extractions, atomically."""
        if not items:
            return
        with self.db.write() as conn:
            self._one_writer(conn, kb_id)
            ids = [c.chunk_id for c, _ in items]
            live = self._live_chunks(conn, ids)
            conn.execute(f"DELETE FROM graph_mentions WHERE chunk_id IN ({_marks(len(ids))})", ids)
            conn.execute(
                f"DELETE FROM graph_edge_evidence WHERE chunk_id IN ({_marks(len(ids))})", ids
            )
            nodes = self._node_ids(conn, kb_id, items)
            mentions: list[tuple[Any, ...]] = []
            evidence: dict[tuple[int, int, int, str], tuple[int, float, str]] = {}
            for chunk, ex in items:
                if chunk.chunk_id in live:
                    mentions += self._mention_rows(kb_id, chunk, ex, nodes, origin)
                    self._evidence(chunk, ex, nodes, evidence)
            conn.executemany(
                "INSERT INTO graph_mentions (kb_id, node_id, chunk_id, document_id, surface, "
                'field, start, "end", salience, origin) VALUES (?,?,?,?,?,?,?,?,?,?)', mentions)
            conn.executemany(
                "INSERT INTO graph_edges (kb_id, source_id, target_id, type, description) "
                "VALUES (?,?,?,?,?) ON CONFLICT (kb_id, source_id, target_id, type) DO NOTHING",
                [(kb_id, a, b, t, d or None) for (_, a, b, t), (_, _, d) in evidence.items()])
            conn.executemany(
                "INSERT INTO graph_edge_evidence (edge_id, chunk_id, document_id, weight, "
                "description, origin) SELECT id, ?, ?, ?, ?, ? FROM graph_edges WHERE kb_id = ? "
                "AND source_id = ? AND target_id = ? AND type = ?",
                [(cid, doc, w, d or None, origin, kb_id, a, b, t)
                 for (cid, a, b, t), (doc, w, d) in evidence.items()])
            conn.executemany(
                "INSERT INTO graph_chunk_state (chunk_id, kb_id, extractor) VALUES (?, ?, ?) "
                "ON CONFLICT (chunk_id) DO UPDATE SET kb_id = excluded.kb_id, "
                f"extractor = excluded.extractor, done_at = {self.db.now}",
                [(cid, kb_id, extractor) for cid in ids if cid in live],
            )

    @staticmethod
    def _live_chunks(conn: Connection, ids: Sequence[int]) -> set[int]:
        rows = conn.execute(f"SELECT id FROM chunks WHERE id IN ({_marks(len(ids))})", ids)
        return {r[0] for r in rows}

    @staticmethod
    def _node_ids(
        conn: Connection, kb_id: int, items: Sequence[tuple[ChunkText, Extraction]]
    ) -> dict[str, int]:
        wanted: dict[str, tuple[str, str, str]] = {}
        for _, ex in items:
            for m in ex.mentions:
                key = normalize_name(m.name)
                if key and key not in wanted:
                    wanted[key] = (m.name, m.type, m.description)
        conn.executemany(
            "INSERT INTO graph_nodes (kb_id, key, name, type, description) VALUES (?,?,?,?,?) "
            "ON CONFLICT (kb_id, key) DO UPDATE SET description = coalesce("
            "graph_nodes.description, excluded.description)",
            [(kb_id, k, n, t, d or None) for k, (n, t, d) in wanted.items()],
        )
        out: dict[str, int] = {}
        keys = list(wanted)
        for start in range(0, len(keys), 500):
            part = keys[start:start + 500]
            rows = conn.execute(
                f"SELECT key, id FROM graph_nodes WHERE kb_id = ? AND key IN ({_marks(len(part))})",
                [kb_id, *part],
            )
            out.update((r[0], r[1]) for r in rows)
        return out

    @staticmethod
    def _mention_rows(
        kb_id: int, chunk: ChunkText, ex: Extraction, nodes: dict[str, int], origin: str
    ) -> list[tuple[Any, ...]]:
        return [(kb_id, nodes[k], chunk.chunk_id, chunk.document_id, m.name, m.field, m.start,
                 m.end, m.salience, origin)
                for m in ex.mentions if (k := normalize_name(m.name)) in nodes]

    @staticmethod
    def _evidence(
        chunk: ChunkText, ex: Extraction, nodes: dict[str, int],
        into: dict[tuple[int, int, int, str], tuple[int, float, str]],
    ) -> None:
        """Sum this chunk's relations per (chunk, source, target, type)."""
        for r in ex.relations:
            a, b = nodes.get(normalize_name(r.source)), nodes.get(normalize_name(r.target))
            if a is None or b is None or a == b:
                continue
            if not r.directed:
                a, b = min(a, b), max(a, b)
            key = (chunk.chunk_id, a, b, r.type)
            _, weight, desc = into.get(key, (0, 0.0, ""))
            into[key] = (chunk.document_id, weight + r.weight, desc or r.description)

    def pending_chunks(
        self, kb_id: int, extractor: str, *, after_id: int = 0, limit: int = 500
    ) -> list[ChunkText]:
        """Searchable chunks not yet processed by ``extractor``, by id after ``after_id``."""
        rows = self.db.conn.execute(
            "SELECT c.id, c.document_id, c.text, c.heading_path FROM chunks c "
            "LEFT JOIN graph_chunk_state s ON s.chunk_id = c.id "
            "WHERE c.kb_id = ? AND c.id > ? AND c.searchable = 1 "
            "AND (s.extractor IS NULL OR s.extractor != ?) ORDER BY c.id LIMIT ?",
            (kb_id, after_id, extractor, limit),
        )
        return [ChunkText(r[0], r[1], r[2], json.loads(r[3])) for r in rows]

    def document_chunks(self, document_id: int) -> list[ChunkText]:
        """The searchable chunks of one document (what ingestion just wrote)."""
        rows = self.db.conn.execute(
            "SELECT id, document_id, text, heading_path FROM chunks WHERE document_id = ? "
            "AND searchable = 1 ORDER BY ord, id", (document_id,))
        return [ChunkText(r[0], r[1], r[2], json.loads(r[3])) for r in rows]

    # -- reading --------------------------------------------------------------------------
    def resolve_keys(self, kb_id: int, keys: Iterable[str]) -> dict[str, int]:
        """Normalised key → canonical node id, for the keys that name a live node."""
        wanted = list(dict.fromkeys(keys))
        out: dict[str, int] = {}
        for start in range(0, len(wanted), 500):
            part = wanted[start:start + 500]
            rows = self.db.conn.execute(
                f"SELECT n.key, {_CANON} FROM graph_nodes n WHERE n.kb_id = ? "
                f"AND n.key IN ({_marks(len(part))}) AND n.mention_count > 0",
                [kb_id, *part],
            )
            out.update((r[0], r[1]) for r in rows)
        return out

    def node(self, kb_id: int, name_or_id: str | int) -> Node:
        """A canonical node by name (any alias) or id, with its aliases."""
        conn = self.db.conn
        if isinstance(name_or_id, int):
            row = conn.execute(
                f"SELECT {_CANON} FROM graph_nodes n WHERE n.kb_id = ? AND n.id = ?",
                (kb_id, name_or_id),
            ).fetchone()
        else:
            row = conn.execute(
                f"SELECT {_CANON} FROM graph_nodes n WHERE n.kb_id = ? AND n.key = ?",
                (kb_id, normalize_name(name_or_id)),
            ).fetchone()
        if row is None:
            raise NotFound(f"no entity '{name_or_id}' in the graph")
        return self.nodes(kb_id, [int(row[0])])[int(row[0])]

    def nodes(self, kb_id: int, ids: Sequence[int]) -> dict[int, Node]:
        """Canonical nodes by id, with aliases and total mentions (over aliases)."""
        out: dict[int, Node] = {}
        for start in range(0, len(ids), 500):
            part = self._raw_ids(kb_id, list(ids[start:start + 500]))
            rows = self.db.conn.execute(
                f"SELECT {_CANON} canon, n.id, n.key, n.name, n.type, n.description, "
                f"n.mention_count FROM graph_nodes n WHERE n.id IN ({_marks(len(part))}) "
                "ORDER BY n.merged_into IS NOT NULL, n.id",
                part,
            )
            for r in rows:
                node = out.get(r["canon"])
                if node is None:
                    out[r["canon"]] = Node(r["canon"], r["key"], r["name"], r["type"],
                                           r["mention_count"], r["description"])
                else:
                    node.mention_count += r["mention_count"]
                    node.aliases.append(r["name"])
        return out

    def all_nodes(self, kb_id: int) -> list[Node]:
        """Every live canonical node."""
        ids = [r[0] for r in self.db.conn.execute(
            f"SELECT DISTINCT {_CANON} FROM graph_nodes n WHERE n.kb_id = ? AND "
            "n.mention_count > 0", (kb_id,))]
        return sorted(self.nodes(kb_id, ids).values(), key=lambda n: n.id)

    def edges(self, kb_id: int, node_ids: Sequence[int] | None = None) -> list[Edge]:
        """Edges between canonical nodes (all, or those touching ``node_ids``), aggregated."""
        source = "graph_edges"
        params: list[Any] = []
        if node_ids is not None:  # two indexed look-ups, not one OR that scans every edge
            raw = self._raw_ids(kb_id, node_ids)
            if not raw:
                return []
            m = _marks(len(raw))
            source = (f"(SELECT * FROM graph_edges WHERE source_id IN ({m}) UNION "
                      f"SELECT * FROM graph_edges WHERE target_id IN ({m}))")
            params += raw + raw
        s, t = "coalesce(a.merged_into, a.id)", "coalesce(b.merged_into, b.id)"
        sql = (
            f"SELECT {s}, {t}, e.type, sum(e.weight), sum(e.evidence_count) FROM {source} e "
            "JOIN graph_nodes a ON a.id = e.source_id JOIN graph_nodes b ON b.id = e.target_id "
            f"WHERE e.kb_id = ? GROUP BY {s}, {t}, e.type HAVING {s} != {t} ORDER BY 1, 2, 3"
        )
        rows = self.db.conn.execute(sql, [*params, kb_id])
        return [Edge(r[0], r[1], r[2], float(r[3]), int(r[4])) for r in rows]

    def _raw_ids(self, kb_id: int, canonical: Sequence[int]) -> list[int]:
        if not canonical:
            return []
        m = _marks(len(canonical))
        rows = self.db.conn.execute(  # +kb_id: look up by id, not by knowledge base
            f"SELECT id FROM graph_nodes WHERE id IN ({m}) AND +kb_id = ? UNION "
            f"SELECT id FROM graph_nodes WHERE merged_into IN ({m}) AND +kb_id = ? ORDER BY 1",
            [*canonical, kb_id, *canonical, kb_id],
        )
        return [r[0] for r in rows]

    def chunks_done(self, kb_id: int) -> int:
        """Number of chunks the graph has processed (the N of entity IDF)."""
        return int(self.db.conn.execute(
            "SELECT count(*) FROM graph_chunk_state WHERE kb_id = ?", (kb_id,)).fetchone()[0])

    def chunk_mentions(self, kb_id: int, node_ids: Sequence[int]) -> list[ChunkMention]:
        """Where canonical nodes are mentioned: one row per (node, chunk) of enabled chunks."""
        if not node_ids:
            return []
        raw = self._raw_ids(kb_id, node_ids)
        if not raw:
            return []
        rows = self.db.conn.execute(
            f"SELECT {_CANON}, m.chunk_id, max(m.salience), count(*) FROM graph_mentions m "
            "JOIN graph_nodes n ON n.id = m.node_id JOIN chunks c ON c.id = m.chunk_id "
            f"WHERE m.node_id IN ({_marks(len(raw))}) AND c.enabled = 1 "
            f"GROUP BY {_CANON}, m.chunk_id ORDER BY 1, 2",
            raw,
        )
        return [ChunkMention(r[0], r[1], float(r[2]), int(r[3])) for r in rows]

    def nodes_in_chunks(self, chunk_ids: Sequence[int]) -> list[ChunkMention]:
        """The canonical nodes each chunk mentions (the other direction)."""
        if not chunk_ids:
            return []
        rows = self.db.conn.execute(
            f"SELECT {_CANON}, m.chunk_id, max(m.salience), count(*) FROM graph_mentions m "
            f"JOIN graph_nodes n ON n.id = m.node_id WHERE m.chunk_id IN "
            f"({_marks(len(chunk_ids))}) GROUP BY {_CANON}, m.chunk_id ORDER BY 1, 2",
            list(chunk_ids),
        )
        return [ChunkMention(r[0], r[1], float(r[2]), int(r[3])) for r in rows]

    def chunk_frequency(self, kb_id: int, node_ids: Sequence[int]) -> dict[int, int]:
        """Number of chunks mentioning each canonical node (for IDF weights)."""
        counts: dict[int, set[int]] = {}
        for cm in self.chunk_mentions(kb_id, node_ids):
            counts.setdefault(cm.node_id, set()).add(cm.chunk_id)
        return {k: len(v) for k, v in counts.items()}

    def mentions_of(self, kb_id: int, node_id: int, limit: int = 50) -> list[dict[str, Any]]:
        """Provenance of a node: document, chunk, surface form and offsets of each mention."""
        raw = self._raw_ids(kb_id, [node_id])
        if not raw:
            return []
        rows = self.db.conn.execute(
            'SELECT m.document_id, d.source, m.chunk_id, m.surface, m.field, m.start, m."end", '
            "m.salience, m.origin FROM graph_mentions m JOIN documents d ON d.id = m.document_id "
            f"WHERE m.node_id IN ({_marks(len(raw))}) ORDER BY m.chunk_id, m.start LIMIT ?",
            [*raw, limit],
        )
        return [dict(r) for r in rows]

    def find_nodes(self, kb_id: int, query: str, limit: int = 20) -> list[Node]:
        """Live canonical nodes whose name (or an alias) contains ``query`` after normalising:
        exact matches first, then prefixes, then by mentions. An empty query lists the most
        mentioned."""
        key = normalize_name(query)
        like = "%" + key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = self.db.conn.execute(
            f"SELECT {_CANON} canon, max(CASE WHEN n.key = ? THEN 1 ELSE 0 END) exact, "
            "max(CASE WHEN substr(n.key, 1, ?) = ? THEN 1 ELSE 0 END) prefix, "
            "sum(n.mention_count) mentions FROM graph_nodes n WHERE n.kb_id = ? "
            "AND n.mention_count > 0 AND n.key LIKE ? ESCAPE '\\' GROUP BY canon "
            "ORDER BY exact DESC, prefix DESC, mentions DESC, canon LIMIT ?",
            (key, len(key), key, kb_id, like, limit),
        ).fetchall()
        found = self.nodes(kb_id, [r["canon"] for r in rows])
        return [found[r["canon"]] for r in rows if r["canon"] in found]

    def evidence(
        self, kb_id: int, source_id: int, target_id: int, type_: str, limit: int = 5
    ) -> list[dict[str, Any]]:
        """The passages behind one (canonical) relation: chunk, document and text of each
        piece of evidence in an enabled chunk, strongest first."""
        sources, targets = self._raw_ids(kb_id, [source_id]), self._raw_ids(kb_id, [target_id])
        if not sources or not targets:
            return []
        rows = self.db.conn.execute(
            "SELECT v.chunk_id, v.document_id, d.source, d.title, c.text, v.weight, "
            "v.description, v.origin FROM graph_edge_evidence v "
            "JOIN graph_edges e ON e.id = v.edge_id JOIN chunks c ON c.id = v.chunk_id "
            "JOIN documents d ON d.id = v.document_id "
            f"WHERE e.kb_id = ? AND e.type = ? AND e.source_id IN ({_marks(len(sources))}) "
            f"AND e.target_id IN ({_marks(len(targets))}) AND c.enabled = 1 "
            "ORDER BY v.weight DESC, v.chunk_id LIMIT ?",
            [kb_id, type_, *sources, *targets, limit],
        )
        return [{**dict(r), "weight": round(float(r["weight"]), 4)} for r in rows]

    def stats(self, kb_id: int) -> dict[str, int]:
        """Counts of live nodes, edges, mentions, merges, communities, processed chunks and
        the chunks of those a language model extracted (``llm_chunks``)."""
        conn = self.db.conn

        def one(sql: str) -> int:
            return int(conn.execute(sql, (kb_id,)).fetchone()[0])

        return {
            "nodes": one("SELECT count(*) FROM graph_nodes WHERE kb_id = ? AND mention_count > 0 "
                         "AND merged_into IS NULL"),
            "edges": one("SELECT count(*) FROM graph_edges WHERE kb_id = ?"),
            "mentions": one("SELECT count(*) FROM graph_mentions WHERE kb_id = ?"),
            "merges": one("SELECT count(*) FROM graph_merges WHERE kb_id = ? "
                          "AND undone_at IS NULL"),
            "communities": one("SELECT count(*) FROM graph_communities WHERE kb_id = ?"),
            "chunks_done": one("SELECT count(*) FROM graph_chunk_state WHERE kb_id = ?"),
            "llm_chunks": one("SELECT count(*) FROM graph_chunk_state WHERE kb_id = ? "
                              "AND extractor LIKE 'llm:%'"),
        }

    def name_records(self, kb_id: int) -> list[tuple[int, str, str, int]]:
        """``(id, name, key, mentions)`` of every live root node (input to resolution)."""
        rows = self.db.conn.execute(
            "SELECT id, name, key, mention_count FROM graph_nodes WHERE kb_id = ? AND "
            "merged_into IS NULL AND mention_count > 0 AND type != 'term'", (kb_id,))
        # by key, in code point order on both backends (a database collation may differ)
        return sorted(((r[0], r[1], r[2], r[3]) for r in rows), key=lambda r: r[2])

    # -- merges ---------------------------------------------------------------------------
    def merge(self, kb_id: int, node_id: int, into_id: int, reason: str, score: float) -> int:
        """Merge ``node_id`` (and its aliases) into ``into_id``'s root; returns the merge id."""
        with self.db.write() as conn:
            self._one_writer(conn, kb_id)
            root = conn.execute(
                "SELECT coalesce(merged_into, id) FROM graph_nodes WHERE kb_id = ? AND id = ?",
                (kb_id, into_id),
            ).fetchone()
            if root is None or root[0] == node_id:
                raise InvalidInput(f"cannot merge node {node_id} into {into_id}")
            conn.execute("UPDATE graph_nodes SET merged_into = ? WHERE merged_into = ?",
                         (root[0], node_id))
            conn.execute("UPDATE graph_nodes SET merged_into = ? WHERE id = ? AND kb_id = ?",
                         (root[0], node_id, kb_id))
            row = conn.execute(
                "INSERT INTO graph_merges (kb_id, node_id, into_id, reason, score) "
                "VALUES (?,?,?,?,?) RETURNING id", (kb_id, node_id, root[0], reason, score),
            ).fetchone()
            return int(row[0])

    def unmerge(self, kb_id: int, merge_id: int) -> None:
        """Undo one merge: the alias becomes its own node again (the record stays)."""
        with self.db.write() as conn:
            self._one_writer(conn, kb_id)
            row = conn.execute(
                "SELECT node_id, into_id FROM graph_merges WHERE id = ? AND kb_id = ? AND "
                "undone_at IS NULL", (merge_id, kb_id)).fetchone()
            if row is None:
                raise NotFound(f"no active merge {merge_id}")
            conn.execute("UPDATE graph_nodes SET merged_into = NULL WHERE id = ? AND "
                         "merged_into = ?", (row[0], row[1]))
            conn.execute(f"UPDATE graph_merges SET undone_at = {self.db.now} WHERE id = ?",
                         (merge_id,))

    def merges(self, kb_id: int) -> list[dict[str, Any]]:
        """Every merge with names, reason, score and whether it was undone."""
        rows = self.db.conn.execute(
            "SELECT g.id, a.name node, b.name into_name, g.reason, g.score, g.created_at, "
            "g.undone_at FROM graph_merges g JOIN graph_nodes a ON a.id = g.node_id "
            "JOIN graph_nodes b ON b.id = g.into_id WHERE g.kb_id = ? ORDER BY g.id", (kb_id,))
        return [dict(r) for r in rows]

    # -- communities ----------------------------------------------------------------------
    def replace_communities(
        self, kb_id: int, items: Sequence[tuple[str, str, Sequence[tuple[int, float]]]],
        origin: str = "rules",
    ) -> None:
        """Replace a knowledge base's communities: ``(title, summary, [(node, rank)])``."""
        with self.db.write() as conn:
            self._one_writer(conn, kb_id)
            conn.execute("DELETE FROM graph_communities WHERE kb_id = ?", (kb_id,))
            for title, summary, members in items:
                cid = int(conn.execute(
                    "INSERT INTO graph_communities (kb_id, title, summary, size, origin) "
                    "VALUES (?,?,?,?,?) RETURNING id",
                    (kb_id, title, summary, len(members), origin),
                ).fetchone()[0])
                conn.executemany(
                    "INSERT INTO graph_community_members (community_id, node_id, rank) "
                    "VALUES (?,?,?) ON CONFLICT (community_id, node_id) DO NOTHING",
                    [(cid, n, r) for n, r in members])

    def communities(self, kb_id: int) -> list[Community]:
        """Stored communities, largest first, members by rank."""
        conn = self.db.conn
        out = []
        for r in conn.execute(
            "SELECT * FROM graph_communities WHERE kb_id = ? ORDER BY size DESC, id", (kb_id,)
        ):
            members = [m[0] for m in conn.execute(
                "SELECT node_id FROM graph_community_members WHERE community_id = ? "
                "ORDER BY rank DESC, node_id", (r["id"],))]
            out.append(Community(r["id"], r["title"], r["summary"], r["size"], members))
        return out

    # -- LLM cache ------------------------------------------------------------------------
    def cache_get(self, key: str) -> str | None:
        """A cached LLM extraction result (JSON), if any."""
        row = self.db.conn.execute("SELECT result FROM graph_llm_cache WHERE key = ?",
                                   (key,)).fetchone()
        return None if row is None else str(row[0])

    def cache_put(self, key: str, model: str, version: str, result: str, tokens: tuple[int, int]
                  ) -> None:
        """Remember an LLM extraction result."""
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO graph_llm_cache (key, model, prompt_version, result, "
                "prompt_tokens, completion_tokens) VALUES (?,?,?,?,?,?) ON CONFLICT (key) DO "
                "UPDATE SET model = excluded.model, prompt_version = excluded.prompt_version, "
                "result = excluded.result, prompt_tokens = excluded.prompt_tokens, "
                f"completion_tokens = excluded.completion_tokens, created_at = {self.db.now}",
                (key, model, version, result, *tokens))
