"""What ``zhiku migrate`` copies from SQLite to PostgreSQL, in which order, and what it skips.

Tables are listed parents first, so every foreign key points at rows already copied. Columns are
not listed: they are read from both schemas, so a column added to both backends' migrations is
copied without touching this file, and one added to SQLite only stops the migration with a
message. Every SQLite table must be either copied or skipped here (with the reason).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TableSpec:
    """One table to copy.

    ``single_batch``: copy in one transaction (a self-reference may point at a later row);
    ``batch_rows``: rows per transaction when not the default (large values);
    ``aggregates``: columns PostgreSQL triggers change while children are copied, restored
    from the source after them.
    """

    name: str
    single_batch: bool = False
    batch_rows: int | None = None
    aggregates: tuple[str, ...] = ()


TABLES: tuple[TableSpec, ...] = (
    TableSpec("workspaces"),
    TableSpec("users"),
    TableSpec("memberships"),
    TableSpec("sessions"),
    TableSpec("api_keys"),
    TableSpec("invitations"),
    TableSpec("knowledge_bases"),
    TableSpec("documents"),
    TableSpec("chunks"),  # + tsv/term_count from chunks_fts; parents precede their children
    TableSpec("embeddings"),  # float32 BLOB -> pgvector, then the HNSW indexes
    TableSpec("providers"),
    TableSpec("assistants"),
    TableSpec("assistant_versions"),
    TableSpec("share_links"),  # before conversations, which point at their link
    TableSpec("share_counters"),
    TableSpec("conversations"),
    TableSpec("messages"),
    TableSpec("model_calls"),
    TableSpec("eval_sets"),
    TableSpec("eval_questions"),
    TableSpec("eval_runs"),
    TableSpec("eval_results"),
    TableSpec("answer_log"),
    TableSpec("feedback"),
    TableSpec("graph_nodes", single_batch=True, aggregates=("mention_count",)),
    TableSpec("graph_edges", aggregates=("weight", "evidence_count")),
    TableSpec("graph_mentions"),
    TableSpec("graph_edge_evidence"),
    TableSpec("graph_chunk_state"),
    TableSpec("graph_merges"),
    TableSpec("graph_communities"),
    TableSpec("graph_community_members"),
    TableSpec("graph_llm_cache"),
    TableSpec("originals", batch_rows=4),  # whole files: few rows per transaction
    TableSpec("api_calls"),
    TableSpec("workflows"),
    TableSpec("workflow_versions"),
    TableSpec("workflow_runs"),  # replay_of points at an earlier run
    TableSpec("workflow_run_nodes"),
    TableSpec("agents"),
    TableSpec("agent_versions"),
    TableSpec("agent_runs"),
    TableSpec("tool_sources"),
    TableSpec("release_bindings"),
    TableSpec("release_scorecards"),
    TableSpec("release_records"),
    TableSpec("sources"),
    TableSpec("source_items"),
    TableSpec("sync_runs"),  # job_id names a job of the source installation (jobs are skipped)
    TableSpec("audit_log"),  # append-only: inserts only, its triggers refuse the rest
    TableSpec("moderation_policies"),
    TableSpec("moderation_hits"),
    TableSpec("access_groups"),
    TableSpec("access_group_members"),
    TableSpec("document_groups"),
    TableSpec("source_groups"),
    TableSpec("directory_identities"),
)

SKIPPED: dict[str, str] = {
    "chunks_fts": "re-expressed as chunks.tsv and chunks.term_count",
    "chunks_fts_vocab": "a view over chunks_fts (PostgreSQL counts from chunks.tsv)",
    "keyword_generation": "SQLite's in-memory keyword index counter; PostgreSQL ranks in SQL",
    "sso_states": "OIDC sign-ins in progress (minutes long); the user signs in again",
    "jobs": "transient work of this installation (queued jobs may name local files); "
    "re-run `zhiku ingest` or re-embed on the server for documents left 'parsed'",
}

# SQLite's own tables and FTS5's shadow tables.
INTERNAL_PREFIXES = ("sqlite_", "chunks_fts_")


def spec(name: str) -> TableSpec:
    """The spec of a copied table."""
    for table in TABLES:
        if table.name == name:
            return table
    raise KeyError(name)


def unplanned(source_tables: list[str]) -> list[str]:
    """Source tables neither copied nor skipped (the plan needs updating)."""
    known = {t.name for t in TABLES} | set(SKIPPED)
    return sorted(
        t for t in source_tables if t not in known and not t.startswith(INTERNAL_PREFIXES)
    )
