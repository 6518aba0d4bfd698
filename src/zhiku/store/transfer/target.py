"""Writing the PostgreSQL target through one held connection: COPY into the table when it was
empty at the start, else COPY into a staging table and upsert by primary key (unchanged rows are
not rewritten); one transaction per batch; source keys staged to find rows the source lacks."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql

from zhiku.store.postgres import postings_merge
from zhiku.store.postgres.db import PgDatabase
from zhiku.store.postgres.vectors import HnswIndexes, VectorLoader
from zhiku.store.transfer.columns import TablePlan


def _ids(names: Iterable[str]) -> sql.Composed:
    return sql.SQL(", ").join(sql.Identifier(n) for n in names)


def _stage(plan: TablePlan) -> sql.Identifier:
    return sql.Identifier(f"zk_stage_{plan.name}")


def _keys(plan: TablePlan) -> sql.Identifier:
    return sql.Identifier(f"zk_keys_{plan.name}")


class PgTarget:
    """The target database and the one connection the migration writes through."""

    def __init__(self, db: PgDatabase, conn: psycopg.Connection[Any]) -> None:
        self.db = db
        self.conn = conn
        self._vector_oid: int | None = None

    @classmethod
    @contextmanager
    def open(cls, db: PgDatabase) -> Iterator[PgTarget]:
        """Hold one pooled connection for the whole migration (temp tables live on it)."""
        with db.raw() as conn:
            try:
                yield cls(db, conn)
            finally:
                conn.execute("DISCARD TEMP")

    def _scalar(self, query: sql.Composable | str, params: Sequence[Any] = ()) -> Any:
        """The first value of the first row of a query that always returns one."""
        row = self.conn.execute(query, params).fetchone()  # type: ignore[arg-type]
        assert row is not None
        return row[0]

    # -- schema -----------------------------------------------------------------------------
    def column_types(self, table: str) -> dict[str, str]:
        """Column name -> type name of a table in the current schema."""
        rows = self.conn.execute(
            "SELECT column_name, udt_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = %s",
            (table,),
        )
        return {r[0]: r[1] for r in rows}

    def identity(self, table: str) -> str | None:
        """The identity column of a table, if it has one."""
        row = self.conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = "
            "current_schema() AND table_name = %s AND is_identity = 'YES'",
            (table,),
        ).fetchone()
        return None if row is None else str(row[0])

    def count(self, table: str) -> int:
        """Rows in ``table``."""
        return int(self._scalar(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))))

    def is_empty(self, table: str) -> bool:
        """Whether ``table`` has no row."""
        query = sql.SQL("SELECT NOT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(table))
        return bool(self._scalar(query))

    # -- source keys and pruning ---------------------------------------------------------------
    def stage_keys(self, plan: TablePlan, batches: Iterable[Sequence[Sequence[Any]]]) -> None:
        """Load the source's primary keys of a table into a temp table (for the checks below)."""
        keys = _keys(plan)
        self.conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(keys))
        self.conn.execute(
            sql.SQL("CREATE TEMP TABLE {} AS SELECT {} FROM {} WITH NO DATA").format(
                keys, _ids(plan.key), sql.Identifier(plan.name)
            )
        )
        with self.conn.cursor() as cur, cur.copy(
            sql.SQL("COPY {} ({}) FROM STDIN").format(keys, _ids(plan.key))
        ) as copy:
            for batch in batches:
                for row in batch:
                    copy.write_row(row)
        self.conn.execute(sql.SQL("ANALYZE {}").format(keys))

    def _anti_join(self, plan: TablePlan, outer: str) -> sql.Composed:
        match = sql.SQL(" AND ").join(
            sql.SQL("k.{c} = t.{c}").format(c=sql.Identifier(c)) for c in plan.key
        )
        inner = "k" if outer == "t" else "t"
        return sql.SQL("FROM {ot} {o} WHERE NOT EXISTS (SELECT 1 FROM {it} {i} WHERE {m})").format(
            ot=sql.Identifier(plan.name) if outer == "t" else _keys(plan),
            o=sql.Identifier(outer),
            it=_keys(plan) if outer == "t" else sql.Identifier(plan.name),
            i=sql.Identifier(inner),
            m=match,
        )

    def extra_rows(self, plan: TablePlan) -> int:
        """Target rows whose key the source does not have (needs ``stage_keys``)."""
        query = sql.SQL("SELECT count(*) ") + self._anti_join(plan, "t")
        return int(self._scalar(query))

    def new_rows(self, plan: TablePlan) -> int:
        """Source keys the target does not have yet (needs ``stage_keys``)."""
        query = sql.SQL("SELECT count(*) ") + self._anti_join(plan, "k")
        return int(self._scalar(query))

    def prune(self, plan: TablePlan) -> int:
        """Delete target rows the source does not have (needs ``stage_keys``)."""
        match = sql.SQL(" AND ").join(
            sql.SQL("k.{c} = t.{c}").format(c=sql.Identifier(c)) for c in plan.key
        )
        query = sql.SQL("DELETE FROM {} t WHERE NOT EXISTS (SELECT 1 FROM {} k WHERE {})").format(
            sql.Identifier(plan.name), _keys(plan), match
        )
        with self.conn.transaction():
            return int(self.conn.execute(query).rowcount)

    # -- copying ----------------------------------------------------------------------------
    def _copy(self, table: sql.Identifier, plan: TablePlan, rows: Sequence[Sequence[Any]]) -> None:
        columns = plan.target_columns
        statement = sql.SQL("COPY {} ({}) FROM STDIN{}").format(
            table,
            _ids(c.name for c in columns),
            sql.SQL(" (FORMAT BINARY)" if plan.binary else ""),
        )
        with self.conn.cursor() as cur, cur.copy(statement) as copy:
            if plan.binary:
                copy.set_types(["bytea" if c.kind == "vector" else c.pg_type for c in columns])
            for row in rows:
                copy.write_row(row)

    def insert(self, plan: TablePlan, rows: Sequence[Sequence[Any]]) -> int:
        """COPY straight into the table (it was empty when the migration started)."""
        with self.conn.transaction():
            self._copy(sql.Identifier(plan.name), plan, rows)
        return len(rows)

    def upsert(
        self, plan: TablePlan, rows: Sequence[Sequence[Any]], only: Sequence[str] = ()
    ) -> tuple[int, int]:
        """COPY into a staging table, then insert new keys and update changed rows (all
        columns, or ``only`` these). Returns (inserted, updated)."""
        stage = _stage(plan)
        names = [c.name for c in plan.target_columns]
        changing = [n for n in (only or names) if n not in plan.key]
        self.conn.execute(
            sql.SQL(
                "CREATE TEMP TABLE IF NOT EXISTS {} ON COMMIT DELETE ROWS AS "
                "SELECT {} FROM {} WITH NO DATA"
            ).format(stage, _ids(names), sql.Identifier(plan.name))
        )
        if changing:
            action = sql.SQL("DO UPDATE SET {} WHERE ({}) IS DISTINCT FROM ({})").format(
                sql.SQL(", ").join(
                    sql.SQL("{c} = excluded.{c}").format(c=sql.Identifier(n)) for n in changing
                ),
                sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(n)) for n in changing),
                sql.SQL(", ").join(
                    sql.SQL("excluded.{}").format(sql.Identifier(n)) for n in changing
                ),
            )
        else:
            action = sql.Composed([sql.SQL("DO NOTHING")])
        statement = sql.SQL(
            "WITH w AS (INSERT INTO {t} AS t ({cols}) SELECT {cols} FROM {s} ORDER BY {key} "
            "ON CONFLICT ({key}) {action} RETURNING xmax = 0 AS inserted) "
            "SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM w"
        ).format(
            t=sql.Identifier(plan.name), cols=_ids(names), s=stage, key=_ids(plan.key),
            action=action,
        )
        with self.conn.transaction():
            self._copy(stage, plan, rows)
            row = self.conn.execute(statement).fetchone()
        assert row is not None
        return int(row[0]), int(row[1])

    # -- after the copy -----------------------------------------------------------------------
    def reset_identity(self, plan: TablePlan, floor: int) -> None:
        """Move the table's identity sequence past its largest id (and past ``floor``, the
        largest id SQLite ever handed out), so new rows never reuse an id."""
        if plan.identity is None:
            return
        column = sql.Identifier(plan.identity)
        largest = self._scalar(
            sql.SQL("SELECT max({}) FROM {}").format(column, sql.Identifier(plan.name))
        )
        top = max(int(largest or 0), floor)
        if top > 0:
            self.conn.execute(
                "SELECT setval(pg_get_serial_sequence(%s, %s), %s)",
                (plan.name, plan.identity, top),
            )

    def vector_models(self) -> list[tuple[str, int]]:
        """Every (model, dimension) with stored vectors."""
        rows = self.conn.execute("SELECT DISTINCT model, dim FROM embeddings ORDER BY 1, 2")
        return [(str(r[0]), int(r[1])) for r in rows]

    def build_hnsw(self, model: str, dim: int, maintenance_work_mem: str) -> None:
        """Create the HNSW index of one (model, dimension) unless it exists: built once over all
        rows, which is far faster than growing it row by row during the copy."""
        with self.db.write() as conn:
            conn.execute(
                "SELECT set_config('maintenance_work_mem', ?, true)", (maintenance_work_mem,)
            )
            HnswIndexes(self.db).ensure(model, dim)

    def merge_postings(self) -> int:
        """Fold the keyword postings the copy's statements wrote (one fresh row per lexeme and
        batch) into blocks, as a server's upkeep would; the lexemes merged."""
        return postings_merge.merge_all(self.db)

    def analyze(self, tables: Iterable[str]) -> None:
        """Fresh planner statistics after a bulk load."""
        self.conn.execute(sql.SQL("ANALYZE {}").format(_ids(tables)))

    # -- reading for checksums ----------------------------------------------------------------
    def rows(self, plan: TablePlan, batch: int) -> Iterator[list[Any]]:
        """The table's rows in key order as checksummed: chunks end with their lexemes (in
        tsvector order) and term count; vectors come as float32 arrays."""
        select: list[sql.Composable] = [sql.Identifier(c.name) for c in plan.columns]
        if plan.derived:
            select += [
                sql.SQL("array_to_string(tsvector_to_array(tsv), ' ')"),
                sql.Identifier("term_count"),
            ]
        kinds = {c.name: c.kind for c in plan.columns}
        order = sql.SQL(", ").join(
            sql.SQL('{} COLLATE "C"' if kinds[k] == "text" else "{}").format(sql.Identifier(k))
            for k in plan.key
        )
        query = sql.SQL("SELECT {} FROM {} ORDER BY {}").format(
            sql.SQL(", ").join(select), sql.Identifier(plan.name), order
        )
        with self.conn.transaction():
            cur = self.conn.cursor(name=f"zk_read_{plan.name}", binary=plan.binary)
            if plan.binary:
                cur.adapters.register_loader(self._vector_type(), VectorLoader)
            with cur:
                cur.itersize = batch
                cur.execute(query)
                while True:
                    part = cur.fetchmany(batch)
                    if not part:
                        return
                    yield part

    def _vector_type(self) -> int:
        if self._vector_oid is None:
            self._vector_oid = int(self._scalar("SELECT 'vector'::regtype::oid"))
        return self._vector_oid

