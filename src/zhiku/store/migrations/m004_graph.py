"""Migration 4: the knowledge graph, in the same database as the chunks.

Provenance drives upkeep. Every mention and every piece of edge evidence references its
chunk with ``ON DELETE CASCADE`` (and records its document), and triggers keep the aggregates
(node mention counts, edge weights, evidence counts) in step with those rows. Deleting or
replacing a document therefore updates the graph in the same transaction: an edge left with
no evidence is deleted, counts and weights follow. Nodes left without mentions stay (hidden,
count 0) so that merge decisions survive a re-ingest.

SQLite keeps the aggregates with row triggers; PostgreSQL with statement triggers over
transition tables, one UPDATE per statement (a cascaded delete of a document's chunks is one
statement per chunk) instead of one per mention, with the same result. The column ``end`` is a
reserved word in PostgreSQL: queries write it quoted (``"end"``), which SQLite accepts too.
"""

from __future__ import annotations

from zhiku.store.migrations.migration import Migration

COMMON = """
CREATE TABLE graph_nodes (
    id {ID},
    kb_id {BIGINT} NOT NULL REFERENCES knowledge_bases(id) ON DELETE CASCADE,
    key {TEXT_C} NOT NULL,
    name {TEXT_C} NOT NULL,
    type {TEXT_C} NOT NULL DEFAULT 'entity',
    description TEXT,
    mention_count INTEGER NOT NULL DEFAULT 0,
    merged_into {BIGINT} REFERENCES graph_nodes(id) ON DELETE SET NULL,
    UNIQUE (kb_id, key)
);
CREATE INDEX graph_nodes_merged ON graph_nodes (merged_into);

CREATE TABLE graph_mentions (
    id {ID},
    kb_id {BIGINT} NOT NULL REFERENCES knowledge_bases(id) ON DELETE CASCADE,
    node_id {BIGINT} NOT NULL REFERENCES graph_nodes(id) ON DELETE CASCADE,
    chunk_id {BIGINT} NOT NULL REFERENCES chunks(id) ON DELETE CASCADE,
    document_id {BIGINT} NOT NULL,  -- provenance; rows go with their chunk
    surface TEXT NOT NULL,
    field TEXT NOT NULL DEFAULT 'text' CHECK (field IN ('text', 'heading')),
    start INTEGER,
    {END} INTEGER,
    salience {REAL} NOT NULL DEFAULT 0.5,
    origin TEXT NOT NULL DEFAULT 'rules'
);
CREATE INDEX graph_mentions_node ON graph_mentions (node_id, chunk_id);
CREATE INDEX graph_mentions_chunk ON graph_mentions (chunk_id);

CREATE TABLE graph_edges (
    id {ID},
    kb_id {BIGINT} NOT NULL REFERENCES knowledge_bases(id) ON DELETE CASCADE,
    source_id {BIGINT} NOT NULL REFERENCES graph_nodes(id) ON DELETE CASCADE,
    target_id {BIGINT} NOT NULL REFERENCES graph_nodes(id) ON DELETE CASCADE,
    type {TEXT_C} NOT NULL,
    weight {REAL} NOT NULL DEFAULT 0,
    evidence_count INTEGER NOT NULL DEFAULT 0,
    description TEXT,
    UNIQUE (kb_id, source_id, target_id, type)
);
CREATE INDEX graph_edges_source ON graph_edges (source_id);
CREATE INDEX graph_edges_target ON graph_edges (target_id);

CREATE TABLE graph_edge_evidence (
    id {ID},
    edge_id {BIGINT} NOT NULL REFERENCES graph_edges(id) ON DELETE CASCADE,
    chunk_id {BIGINT} NOT NULL REFERENCES chunks(id) ON DELETE CASCADE,
    document_id {BIGINT} NOT NULL,
    weight {REAL} NOT NULL,
    description TEXT,
    origin TEXT NOT NULL DEFAULT 'rules'
);
CREATE INDEX graph_edge_evidence_edge ON graph_edge_evidence (edge_id);
CREATE INDEX graph_edge_evidence_chunk ON graph_edge_evidence (chunk_id);

-- Which extractor (and prompt version) last processed each chunk: what makes runs resumable.
CREATE TABLE graph_chunk_state (
    chunk_id {BIGINT} PRIMARY KEY REFERENCES chunks(id) ON DELETE CASCADE,
    kb_id {BIGINT} NOT NULL REFERENCES knowledge_bases(id) ON DELETE CASCADE,
    extractor TEXT NOT NULL,
    done_at {TEXT_C} NOT NULL DEFAULT {NOW}
);
CREATE INDEX graph_chunk_state_kb ON graph_chunk_state (kb_id, extractor);

-- Every alias merge with its reason; undone merges stay for the record.
CREATE TABLE graph_merges (
    id {ID},
    kb_id {BIGINT} NOT NULL REFERENCES knowledge_bases(id) ON DELETE CASCADE,
    node_id {BIGINT} NOT NULL REFERENCES graph_nodes(id) ON DELETE CASCADE,
    into_id {BIGINT} NOT NULL REFERENCES graph_nodes(id) ON DELETE CASCADE,
    reason TEXT NOT NULL,
    score {REAL},
    created_at {TEXT_C} NOT NULL DEFAULT {NOW},
    undone_at {TEXT_C}
);
CREATE INDEX graph_merges_kb ON graph_merges (kb_id, node_id);

-- Derived: communities and their summaries, recomputed by `graph build` / `graph communities`.
CREATE TABLE graph_communities (
    id {ID},
    kb_id {BIGINT} NOT NULL REFERENCES knowledge_bases(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    size INTEGER NOT NULL,
    origin TEXT NOT NULL DEFAULT 'rules',
    created_at {TEXT_C} NOT NULL DEFAULT {NOW}
);
CREATE INDEX graph_communities_kb ON graph_communities (kb_id);
CREATE TABLE graph_community_members (
    community_id {BIGINT} NOT NULL REFERENCES graph_communities(id) ON DELETE CASCADE,
    node_id {BIGINT} NOT NULL REFERENCES graph_nodes(id) ON DELETE CASCADE,
    rank {REAL} NOT NULL DEFAULT 0,
    PRIMARY KEY (community_id, node_id)
){WITHOUT_ROWID};
CREATE INDEX graph_community_members_node ON graph_community_members (node_id);

-- LLM extraction cache, shared by every knowledge base: key = hash(prompt version, model, text).
CREATE TABLE graph_llm_cache (
    key {TEXT_C} PRIMARY KEY,
    model TEXT NOT NULL,
    prompt_version TEXT NOT NULL,
    result TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    created_at {TEXT_C} NOT NULL DEFAULT {NOW}
){WITHOUT_ROWID};
"""

SQLITE = """
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
"""

POSTGRES = """
CREATE INDEX graph_mentions_kb ON graph_mentions (kb_id);
CREATE INDEX graph_merges_node ON graph_merges (node_id);
CREATE INDEX graph_merges_into ON graph_merges (into_id);

-- Aggregates follow their rows, including rows removed by ON DELETE CASCADE.
CREATE FUNCTION graph_mentions_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE graph_nodes n SET mention_count = n.mention_count + d.c
    FROM (SELECT node_id, count(*) AS c FROM new_rows GROUP BY node_id) d
    WHERE n.id = d.node_id;
    RETURN NULL;
END $$;
CREATE TRIGGER graph_mentions_ai AFTER INSERT ON graph_mentions
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION graph_mentions_added();

CREATE FUNCTION graph_mentions_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE graph_nodes n SET mention_count = n.mention_count - d.c
    FROM (SELECT node_id, count(*) AS c FROM old_rows GROUP BY node_id) d
    WHERE n.id = d.node_id;
    RETURN NULL;
END $$;
CREATE TRIGGER graph_mentions_ad AFTER DELETE ON graph_mentions
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION graph_mentions_removed();

CREATE FUNCTION graph_evidence_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE graph_edges e SET weight = e.weight + d.w, evidence_count = e.evidence_count + d.c
    FROM (SELECT edge_id, sum(weight) AS w, count(*) AS c FROM new_rows GROUP BY edge_id) d
    WHERE e.id = d.edge_id;
    RETURN NULL;
END $$;
CREATE TRIGGER graph_evidence_ai AFTER INSERT ON graph_edge_evidence
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION graph_evidence_added();

CREATE FUNCTION graph_evidence_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE graph_edges e SET weight = e.weight - d.w, evidence_count = e.evidence_count - d.c
    FROM (SELECT edge_id, sum(weight) AS w, count(*) AS c FROM old_rows GROUP BY edge_id) d
    WHERE e.id = d.edge_id;
    DELETE FROM graph_edges e WHERE e.evidence_count <= 0
        AND e.id IN (SELECT edge_id FROM old_rows);
    RETURN NULL;
END $$;
CREATE TRIGGER graph_evidence_ad AFTER DELETE ON graph_edge_evidence
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION graph_evidence_removed();
"""

MIGRATION = Migration(4, "graph", common=COMMON, sqlite=SQLITE, postgres=POSTGRES)
