"""Who may read which document: the reader condition of every retrieval query, and the
groups a document is restricted to. SQL both backends run as is."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from zhiku.store.common.base import SqlBackend
from zhiku.store.db import Connection
from zhiku.store.reader import Reader, reader_sql


class ReaderSql(SqlBackend):
    """Document restrictions over ``self.db``."""

    def _reader_sql(self, reader: Reader, alias: str = "d") -> tuple[str, list[Any]]:
        """``(condition, params)``: the ``documents`` row ``alias`` is readable by ``reader``."""
        return reader_sql(reader, self._DIALECT, alias)

    def hides_any(self, kb_ids: Sequence[int], reader: Reader) -> bool:
        """Whether ``reader`` might not read some document of these knowledge bases (a cheap
        test: any restricted document, for a limited reader). False lets searches take their
        unfiltered fast paths."""
        if reader.unlimited or not kb_ids:
            return False
        kbs, params = self._ids_in("kb_id", kb_ids)
        row = self.db.conn.execute(
            f"SELECT 1 FROM documents WHERE {kbs} AND restricted = 1 LIMIT 1", params
        ).fetchone()
        return row is not None

    def readable_documents(self, doc_ids: Iterable[int], reader: Reader) -> set[int]:
        """The ids among ``doc_ids`` that ``reader`` may read (existing documents only)."""
        ids = list(set(doc_ids))
        if not ids:
            return set()
        where, params = self._reader_sql(reader)
        found: set[int] = set()
        for start in range(0, len(ids), self._IDS_PER_QUERY):
            part, id_params = self._ids_in("d.id", ids[start : start + self._IDS_PER_QUERY])
            rows = self.db.conn.execute(
                f"SELECT d.id FROM documents d WHERE {part} AND {where}", [*id_params, *params]
            )
            found.update(int(r[0]) for r in rows)
        return found

    _NAMES_PER_QUERY = 100  # names matched by one query with LIKE (three patterns each)

    def documents_named(
        self, kb_ids: Sequence[int], names: Iterable[str], reader: Reader
    ) -> list[tuple[str, bool]]:
        """``(source, readable by reader)`` of documents of these knowledge bases that
        ``names`` may name (a source, a trailing part of its path, or a file name without its
        extension): for each name, every such document ``reader`` may not read, and every one
        when no document's source is the name itself. Enough to tell, per name, whether it
        names any document and whether the reader may read all it names; a few more may come
        back (``a`` for ``a.tar.gz``): callers match exactly (``zhiku.evals.matching``)."""
        wanted = sorted({n for n in names if n})
        if not kb_ids or not wanted:
            return []
        readable, reader_params = self._reader_sql(reader)
        kbs, kb_params = self._ids_in("d.kb_id", kb_ids)
        select = (f"SELECT d.source, CASE WHEN {readable} THEN 1 ELSE 0 END FROM documents d "
                  f"WHERE {kbs}")
        found: dict[str, bool] = {}

        def add(sql: str, params: list[Any]) -> None:
            rows = self.db.conn.execute(sql, [*reader_params, *kb_params, *params])
            for r in rows:
                found[str(r[0])] = found.get(str(r[0]), True) and bool(r[1])

        for start in range(0, len(wanted), self._IDS_PER_QUERY):  # by the source index
            part = wanted[start : start + self._IDS_PER_QUERY]
            add(f"{select} AND d.source IN ({','.join('?' * len(part))})", list(part))
        unnamed = [n for n in wanted if n not in found]  # no source is the name itself
        hidden_from = [] if reader.unlimited else wanted
        for start in range(0, len(hidden_from), self._NAMES_PER_QUERY):
            like, params = self._names_like(hidden_from[start : start + self._NAMES_PER_QUERY])
            # the documents it may not read: restricted ones only, before any pattern is tried
            add(f"{select} AND d.restricted = 1 AND NOT ({readable}) AND ({like})",
                [*reader_params, *params])
        for start in range(0, len(unnamed), self._NAMES_PER_QUERY):
            like, params = self._names_like(unnamed[start : start + self._NAMES_PER_QUERY])
            add(f"{select} AND ({like})", params)
        return sorted(found.items())

    @staticmethod
    def _names_like(names: Sequence[str]) -> tuple[str, list[Any]]:
        """``(condition, params)``: the ``documents`` row ``d`` may be named by one of
        ``names`` other than by its whole source."""
        params: list[Any] = []
        for name in names:
            like = name.replace("!", "!!").replace("%", "!%").replace("_", "!_")
            params += [f"%/{like}", f"{like}.%", f"%/{like}.%"]
        one = ("d.source LIKE ? ESCAPE '!' OR d.source LIKE ? ESCAPE '!' "
               "OR d.source LIKE ? ESCAPE '!'")
        return " OR ".join(one for _ in names), params

    def document_groups(self, doc_ids: Iterable[int]) -> dict[int, list[int]]:
        """The groups each restricted document is restricted to (unrestricted ones are left
        out; a restricted one whose groups were deleted maps to an empty list)."""
        ids = list(set(doc_ids))
        out: dict[int, list[int]] = {}
        for start in range(0, len(ids), self._IDS_PER_QUERY):
            part, params = self._ids_in("d.id", ids[start : start + self._IDS_PER_QUERY])
            rows = self.db.conn.execute(
                "SELECT d.id, g.group_id FROM documents d LEFT JOIN document_groups g "
                f"ON g.document_id = d.id WHERE {part} AND d.restricted = 1 "
                "ORDER BY d.id, g.group_id",
                params,
            )
            for r in rows:
                listed = out.setdefault(int(r[0]), [])
                if r[1] is not None:
                    listed.append(int(r[1]))
        return out

    def set_document_groups(self, doc_ids: Sequence[int], groups: Sequence[int] | None) -> None:
        """Restrict documents to ``groups`` (None: unrestricted, read by everyone in the
        workspace; an empty list: administrators only)."""
        with self.db.write() as conn:
            for doc_id in doc_ids:
                self._write_groups(conn, doc_id, groups)

    def _write_groups(
        self, conn: Connection, doc_id: int, groups: Sequence[int] | None
    ) -> None:
        conn.execute("DELETE FROM document_groups WHERE document_id = ?", (doc_id,))
        conn.execute(
            f"UPDATE documents SET restricted = ?, updated_at = {self.db.now} WHERE id = ?",
            (0 if groups is None else 1, doc_id),
        )
        if groups:
            conn.executemany(
                "INSERT INTO document_groups (document_id, group_id) VALUES (?, ?)",
                [(doc_id, int(g)) for g in sorted(set(groups))],
            )

    def _groups_of(self, conn: Connection, doc_id: int) -> list[int] | None:
        """A document's restriction inside a transaction (None: unrestricted)."""
        row = conn.execute("SELECT restricted FROM documents WHERE id = ?", (doc_id,)).fetchone()
        if row is None or not row[0]:
            return None
        return [
            int(r[0])
            for r in conn.execute(
                "SELECT group_id FROM document_groups WHERE document_id = ?", (doc_id,)
            )
        ]
