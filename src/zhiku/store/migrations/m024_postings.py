"""Migration 24: PostgreSQL's keyword postings, so that BM25 reads a query term's chunks from a
few packed rows instead of each candidate chunk's tsvector. SQLite has its own in-memory index.

``chunk_postings`` holds, per knowledge base and lexeme, rows of postings: the chunk ids in
ascending order with each chunk's frequency of the lexeme and length in terms (BM25's ``tf``
and ``dl``), as three parallel arrays. Triggers on ``chunks`` add one *fresh* row per lexeme
for each statement that inserts chunks or changes their terms, and an empty fresh row per
lexeme of the chunks a statement deletes or whose terms it changes (so that the lexeme is
visited); the background upkeep merges a lexeme's fresh rows into blocks of up to ``BLOCK``
postings (``postgres/postings_merge.py``).

The postings are a superset of the truth, never its source: deleting a chunk leaves its
postings until a merge drops them, and a chunk whose terms changed keeps its old postings
beside the new ones until then. A search therefore ranks the postings' candidates by an upper
bound of their score and scores the best of them exactly from ``chunks`` (``postings.py``).
"""

from __future__ import annotations

from zhiku.store.migrations.migration import Migration

BLOCK = 2048  # postings per merged row

# One row per knowledge base and lexeme of the given chunk rows (``src``: id, kb_id, tsv,
# term_count), ids ascending; ``block`` splits a lexeme's postings into rows of BLOCK.
_ROWS = """
SELECT x.kb_id, x.lexeme, nextval('chunk_postings_seg'), count(*)::int, {fresh},
       array_agg(x.id ORDER BY x.id), array_agg(x.tf ORDER BY x.id),
       array_agg(x.dl ORDER BY x.id)
FROM (SELECT s.kb_id, u.lexeme, s.id, least(cardinality(u.positions), 32767)::smallint AS tf,
             s.term_count AS dl{block}
      FROM ({src}) s, unnest(s.tsv) u WHERE s.tsv IS NOT NULL) x
GROUP BY x.kb_id, x.lexeme{group}
"""

_INSERT = "INSERT INTO chunk_postings (kb_id, lexeme, seg, n, fresh, ids, tfs, dls)"

_FRESH = _INSERT + _ROWS.format(fresh="true", block="", group="", src="{src}")

_BACKFILL = _INSERT + _ROWS.format(
    fresh="false",
    block=f",\n             (row_number() OVER (PARTITION BY s.kb_id, u.lexeme ORDER BY s.id) - 1)"
    f" / {BLOCK} AS blk",
    group=", x.blk",
    src="SELECT id, kb_id, tsv, term_count FROM chunks",
)

_CHANGED = (
    "SELECT n.id, n.kb_id, n.tsv, n.term_count FROM new_rows n JOIN old_rows o USING (id) "
    "WHERE n.tsv IS DISTINCT FROM o.tsv"
)

# An empty fresh row per knowledge base and lexeme of chunks whose terms went (``src``: kb_id,
# tsv), unless their knowledge base is being deleted (its rows go with it).
_MARK = _INSERT + """
SELECT s.kb_id, u.lexeme, nextval('chunk_postings_seg'), 0, true, '{{}}', '{{}}', '{{}}'
FROM ({src}) s, unnest(s.tsv) u
WHERE s.tsv IS NOT NULL AND EXISTS (SELECT 1 FROM knowledge_bases k WHERE k.id = s.kb_id)
GROUP BY s.kb_id, u.lexeme"""
_GONE = (
    "SELECT o.kb_id, o.tsv FROM new_rows n JOIN old_rows o USING (id) "
    "WHERE n.tsv IS DISTINCT FROM o.tsv"
)

POSTGRES = f"""
CREATE SEQUENCE chunk_postings_seg;
CREATE TABLE chunk_postings (
    kb_id BIGINT NOT NULL,
    lexeme TEXT COLLATE "C" NOT NULL,
    seg BIGINT NOT NULL,
    n INTEGER NOT NULL,
    fresh BOOLEAN NOT NULL,
    ids BIGINT[] NOT NULL,
    tfs SMALLINT[] NOT NULL,
    dls INTEGER[] NOT NULL,
    PRIMARY KEY (kb_id, lexeme, seg)
);
SET LOCAL work_mem = '256MB';  -- the backfill sorts every posting once
{_BACKFILL};
CREATE INDEX chunk_postings_fresh ON chunk_postings (kb_id, lexeme) WHERE fresh;

CREATE FUNCTION zhiku_chunk_postings() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_FRESH.format(src="SELECT id, kb_id, tsv, term_count FROM new_rows")};
    ELSIF TG_OP = 'DELETE' THEN
        {_MARK.format(src="SELECT kb_id, tsv FROM old_rows")};
    ELSE
        {_FRESH.format(src=_CHANGED)};
        {_MARK.format(src=_GONE)};
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER chunks_postings_insert AFTER INSERT ON chunks
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION zhiku_chunk_postings();
CREATE TRIGGER chunks_postings_delete AFTER DELETE ON chunks
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION zhiku_chunk_postings();
CREATE TRIGGER chunks_postings_update AFTER UPDATE ON chunks
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION zhiku_chunk_postings();

CREATE FUNCTION zhiku_kb_postings_drop() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM chunk_postings p USING old_rows o WHERE p.kb_id = o.id;
    RETURN NULL;
END $$;
CREATE TRIGGER knowledge_bases_postings AFTER DELETE ON knowledge_bases
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION zhiku_kb_postings_drop();
"""

MIGRATION = Migration(24, "postings", postgres=POSTGRES)
