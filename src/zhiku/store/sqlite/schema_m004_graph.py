"""Migration M004: the knowledge graph (issue 6), in the same database as the chunks.

Provenance drives upkeep. Every mention and every piece of edge evidence references its
chunk with ``ON DELETE CASCADE`` (and records its document), and triggers keep the aggregates
(node mention counts, edge weights, evidence counts) in step with those rows. Deleting or
replacing a document therefore updates the graph in the same transaction: an edge left with
no evidence is deleted, counts and weights follow. Nodes left without mentions stay (hidden,
count 0) so that merge decisions survive a re-ingest.
"""

from __future__ import annotations

M004_GRAPH = """
CREATE TABLE graph_nodes (
    id INTEGER PRIMARY KEY,
    kb_id INTEGER NOT NULL REFERENCES knowledge_bases(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    name TEXT NOT NULL,
    type TEXT NOT NULL DEFAULT 'entity',
    description TEXT,
    mention_count INTEGER NOT NULL DEFAULT 0,
    merged_into INTEGER REFERENCES graph_nodes(id) ON DELETE SET NULL,
    UNIQUE (kb_id, key)
);
CREATE INDEX graph_nodes_merged ON graph_nodes (merged_into);

CREATE TABLE graph_mentions (
    id INTEGER PRIMARY KEY,
    kb_id INTEGER NOT NULL REFERENCES knowledge_bases(id) ON DELETE CASCADE,
    node_id INTEGER NOT NULL REFERENCES graph_nodes(id) ON DELETE CASCADE,
    chunk_id INTEGER NOT NULL REFERENCES chunks(id) ON DELETE CASCADE,
    document_id INTEGER NOT NULL,  -- provenance; rows go with their chunk
    surface TEXT NOT NULL,
    field TEXT NOT NULL DEFAULT 'text' CHECK (field IN ('text', 'heading')),
    start INTEGER,
    end INTEGER,
    salience REAL NOT NULL DEFAULT 0.5,
    origin TEXT NOT NULL DEFAULT 'rules'
);
CREATE INDEX graph_mentions_node ON graph_mentions (node_id, chunk_id);
CREATE INDEX graph_mentions_chunk ON graph_mentions (chunk_id);

CREATE TABLE graph_edges (
    id INTEGER PRIMARY KEY,
    kb_id INTEGER NOT NULL REFERENCES knowledge_bases(id) ON DELETE CASCADE,
    source_id INTEGER NOT NULL REFERENCES graph_nodes(id) ON DELETE CASCADE,
    target_id INTEGER NOT NULL REFERENCES graph_nodes(id) ON DELETE CASCADE,
    type TEXT NOT NULL,
    weight REAL NOT NULL DEFAULT 0,
    evidence_count INTEGER NOT NULL DEFAULT 0,
    description TEXT,
    UNIQUE (kb_id, source_id, target_id, type)
);
CREATE INDEX graph_edges_source ON graph_edges (source_id);
CREATE INDEX graph_edges_target ON graph_edges (target_id);

CREATE TABLE graph_edge_evidence (
    id INTEGER PRIMARY KEY,
    edge_id INTEGER NOT NULL REFERENCES graph_edges(id) ON DELETE CASCADE,
    chunk_id INTEGER NOT NULL REFERENCES chunks(id) ON DELETE CASCADE,
    document_id INTEGER NOT NULL,
    weight REAL NOT NULL,
    description TEXT,
    origin TEXT NOT NULL DEFAULT 'rules'
);
CREATE INDEX graph_edge_evidence_edge ON graph_edge_evidence (edge_id);
CREATE INDEX graph_edge_evidence_chunk ON graph_edge_evidence (chunk_id);

-- Aggregates follow their rows, including rows removed by ON DELETE CASCADE.
CREATE TRIGGER graph_mentions_ai AFTER INSERT ON graph_mentions BEGIN
    UPDATE graph_nodes SET mention_count = mention_count + 1 WHERE id = new.node_id;
END;
CREATE TRIGGER graph_mentions_ad AFTER DELETE ON graph_mentions BEGIN
    UPDATE graph_nodes SET mention_count = mention_count - 1 WHERE id = old.node_id;
END;
CREATE TRIGGER graph_evidence_ai AFTER INSERT ON graph_edge_evidence BEGIN
    UPDATE graph_edges SET weight = weight + new.weight, evidence_count = evidence_count + 1
    WHERE id = new.edge_id;
END;
CREATE TRIGGER graph_evidence_ad AFTER DELETE ON graph_edge_evidence BEGIN
    UPDATE graph_edges SET weight = weight - old.weight, evidence_count = evidence_count - 1
    WHERE id = old.edge_id;
    DELETE FROM graph_edges WHERE id = old.edge_id AND evidence_count <= 0;
END;

-- Which extractor (and prompt version) last processed each chunk: what makes runs resumable.
CREATE TABLE graph_chunk_state (
    chunk_id INTEGER PRIMARY KEY REFERENCES chunks(id) ON DELETE CASCADE,
    kb_id INTEGER NOT NULL REFERENCES knowledge_bases(id) ON DELETE CASCADE,
    extractor TEXT NOT NULL,
    done_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX graph_chunk_state_kb ON graph_chunk_state (kb_id, extractor);

-- Every alias merge with its reason; undone merges stay for the record.
CREATE TABLE graph_merges (
    id INTEGER PRIMARY KEY,
    kb_id INTEGER NOT NULL REFERENCES knowledge_bases(id) ON DELETE CASCADE,
    node_id INTEGER NOT NULL REFERENCES graph_nodes(id) ON DELETE CASCADE,
    into_id INTEGER NOT NULL REFERENCES graph_nodes(id) ON DELETE CASCADE,
    reason TEXT NOT NULL,
    score REAL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    undone_at TEXT
);
CREATE INDEX graph_merges_kb ON graph_merges (kb_id, node_id);

-- Derived: communities and their summaries, recomputed by `graph build` / `graph communities`.
CREATE TABLE graph_communities (
    id INTEGER PRIMARY KEY,
    kb_id INTEGER NOT NULL REFERENCES knowledge_bases(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    size INTEGER NOT NULL,
    origin TEXT NOT NULL DEFAULT 'rules',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX graph_communities_kb ON graph_communities (kb_id);
CREATE TABLE graph_community_members (
    community_id INTEGER NOT NULL REFERENCES graph_communities(id) ON DELETE CASCADE,
    node_id INTEGER NOT NULL REFERENCES graph_nodes(id) ON DELETE CASCADE,
    rank REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (community_id, node_id)
) WITHOUT ROWID;
CREATE INDEX graph_community_members_node ON graph_community_members (node_id);

-- LLM extraction cache, shared by every knowledge base: key = hash(prompt version, model, text).
CREATE TABLE graph_llm_cache (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    prompt_version TEXT NOT NULL,
    result TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) WITHOUT ROWID;
"""
