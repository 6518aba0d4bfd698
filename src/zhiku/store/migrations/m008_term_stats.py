"""Migration 8: PostgreSQL's document frequencies kept at write time, and statistics rows that
concurrent writers do not queue on. SQLite's FTS5 answers both from its own index
(``chunks_fts_vocab``) and has nothing to do.

``term_df`` holds, per knowledge base, how many indexed chunks contain each lexeme, so a search
looks a query term's frequency up in the primary key instead of unnesting the tsvector of every
chunk that contains it (seconds at a million chunks).

Both ``term_df`` and ``chunk_stats`` are sharded: a writing transaction adds its changes to the
rows of one shard (its transaction id modulo 16) and readers sum the shards. Two workers
writing into the same knowledge base then rarely wait for each other's commit, where one row
per knowledge base serialised every write transaction.

The statement triggers on ``chunks`` keep both: inserts add, deletes subtract, updates add the
difference of the rows whose terms changed. Each trigger locks its ``chunk_stats`` rows (sorted)
before its ``term_df`` rows (sorted), so two transactions writing one knowledge base in the same
shard queue on the first and never deadlock over the second. Chunks deleted together with their
knowledge base are skipped: its rows go with it.
"""

from __future__ import annotations

from zhiku.store.migrations.migration import Migration

# The shard a writing transaction adds its changes to.
SHARD_SQL = "(pg_current_xact_id()::text::bigint % 16)::smallint"

# A "delta" relation (kb_id, tsv, term_count, sign) is spelled out per trigger operation:
# plpgsql sees only the transition tables its trigger declares.
_APPLY = """
        INSERT INTO chunk_stats AS s (kb_id, shard, chunks, terms)
        SELECT kb_id, my_shard, sum(sign), sum(sign * term_count) FROM ({delta}) d
        GROUP BY kb_id ORDER BY kb_id
        ON CONFLICT (kb_id, shard) DO UPDATE
        SET chunks = s.chunks + excluded.chunks, terms = s.terms + excluded.terms;
        INSERT INTO term_df AS t (kb_id, lexeme, shard, df)
        SELECT d.kb_id, u.lexeme, my_shard, sum(d.sign) FROM ({delta}) d, unnest(d.tsv) u
        GROUP BY d.kb_id, u.lexeme HAVING sum(d.sign) <> 0 ORDER BY d.kb_id, u.lexeme
        ON CONFLICT (kb_id, lexeme, shard) DO UPDATE SET df = t.df + excluded.df;"""

_LIVE_KB = "EXISTS (SELECT 1 FROM knowledge_bases k WHERE k.id = {r}.kb_id)"

_INSERTED = "SELECT kb_id, tsv, term_count, 1 AS sign FROM new_rows WHERE tsv IS NOT NULL"
_DELETED = (
    "SELECT kb_id, tsv, term_count, -1 AS sign FROM old_rows o "
    f"WHERE tsv IS NOT NULL AND {_LIVE_KB.format(r='o')}"
)
_UPDATED = """
            SELECT n.kb_id, n.tsv, n.term_count, 1 AS sign
            FROM new_rows n JOIN old_rows o USING (id)
            WHERE n.tsv IS DISTINCT FROM o.tsv AND n.tsv IS NOT NULL
            UNION ALL
            SELECT o.kb_id, o.tsv, o.term_count, -1
            FROM new_rows n JOIN old_rows o USING (id)
            WHERE n.tsv IS DISTINCT FROM o.tsv AND o.tsv IS NOT NULL"""

POSTGRES = f"""
ALTER TABLE chunk_stats ADD COLUMN shard SMALLINT NOT NULL DEFAULT 0,
    ADD COLUMN vector_changes BIGINT NOT NULL DEFAULT 0;
ALTER TABLE chunk_stats DROP CONSTRAINT chunk_stats_pkey;
ALTER TABLE chunk_stats ADD PRIMARY KEY (kb_id, shard);

-- Per knowledge base and lexeme: the indexed chunks containing it (summed over shards).
CREATE TABLE term_df (
    kb_id BIGINT NOT NULL,
    lexeme TEXT NOT NULL,
    shard SMALLINT NOT NULL,
    df BIGINT NOT NULL,
    PRIMARY KEY (kb_id, lexeme, shard)
);
INSERT INTO term_df (kb_id, lexeme, shard, df)
SELECT c.kb_id, u.lexeme, 0, count(*) FROM chunks c, unnest(c.tsv) u
WHERE c.tsv IS NOT NULL GROUP BY c.kb_id, u.lexeme;

CREATE FUNCTION zhiku_kb_term_df_drop() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM term_df t USING old_rows o WHERE t.kb_id = o.id;
    RETURN NULL;
END $$;
CREATE TRIGGER knowledge_bases_term_df AFTER DELETE ON knowledge_bases
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION zhiku_kb_term_df_drop();

CREATE OR REPLACE FUNCTION zhiku_chunk_stats() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    my_shard SMALLINT := {SHARD_SQL};
BEGIN
    IF TG_OP = 'INSERT' THEN{_APPLY.format(delta=_INSERTED)}
    ELSIF TG_OP = 'DELETE' THEN{_APPLY.format(delta=_DELETED)}
    ELSE{_APPLY.format(delta=_UPDATED)}
    END IF;
    RETURN NULL;
END $$;
"""

MIGRATION = Migration(8, "term_stats", postgres=POSTGRES)
