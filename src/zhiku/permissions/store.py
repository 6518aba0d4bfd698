"""Groups of readers, their members, and the groups of sources, in SQL both backends run."""

from __future__ import annotations

from collections.abc import Sequence

from zhiku.core.errors import Conflict, InvalidInput, NotFound
from zhiku.permissions.records import Group
from zhiku.store.db import Connection, Database, Row


class GroupStore:
    """A workspace's groups (``access_groups``) and their members."""

    def __init__(self, db: Database, workspace_id: int) -> None:
        self.db = db
        self.workspace_id = workspace_id

    # -- groups -----------------------------------------------------------------------------
    def create(self, name: str, description: str = "") -> Group:
        """A new group; ``Conflict`` when the workspace has one of that name."""
        name = _clean(name)
        try:
            with self.db.write() as conn:
                row = conn.execute(
                    "INSERT INTO access_groups (workspace_id, name, description) "
                    "VALUES (?, ?, ?) RETURNING id",
                    (self.workspace_id, name, description),
                ).fetchone()
        except self.db.IntegrityError as exc:
            raise Conflict(f"group '{name}' already exists") from exc
        return self.get(int(row[0]))

    def all(self) -> list[Group]:
        """Every group of the workspace with its members, by name."""
        rows = self.db.conn.execute(
            "SELECT * FROM access_groups WHERE workspace_id = ? ORDER BY name",
            (self.workspace_id,),
        ).fetchall()
        return self._with_members([_group(r) for r in rows])

    def get(self, ref: int | str) -> Group:
        """A group by id or name, or ``NotFound``."""
        column = "id" if isinstance(ref, int) else "name"
        row = self.db.conn.execute(
            f"SELECT * FROM access_groups WHERE workspace_id = ? AND {column} = ?",
            (self.workspace_id, ref),
        ).fetchone()
        if row is None:
            raise NotFound(f"group {ref!r} does not exist")
        return self._with_members([_group(row)])[0]

    def resolve(self, refs: Sequence[int | str]) -> list[int]:
        """Ids of groups named by id or name (every one must exist in this workspace)."""
        return sorted({self.get(r).id for r in refs})

    def update(self, group_id: int, *, name: str | None = None,
               description: str | None = None) -> Group:
        """Rename a group or change its description."""
        group = self.get(group_id)
        try:
            with self.db.write() as conn:
                conn.execute(
                    "UPDATE access_groups SET name = ?, description = ? WHERE id = ?",
                    (_clean(name) if name is not None else group.name,
                     description if description is not None else group.description, group.id),
                )
        except self.db.IntegrityError as exc:
            raise Conflict(f"group '{name}' already exists") from exc
        return self.get(group.id)

    def delete(self, group_id: int) -> Group:
        """Delete a group. Documents restricted to it stay restricted (to their other groups,
        or to administrators only): deleting a group never opens a document to everyone."""
        group = self.get(group_id)
        with self.db.write() as conn:
            conn.execute("DELETE FROM access_groups WHERE id = ?", (group.id,))
        return group

    # -- members ----------------------------------------------------------------------------
    def add_member(self, group_id: int, *, user_id: int | None = None,
                   key_id: int | None = None) -> Group:
        """Add a user or an API key of the workspace (adding one twice is a no-op)."""
        group = self.get(group_id)
        column, member = _member(user_id, key_id)
        with self.db.write() as conn:
            self._check_member(conn, column, member)
            if conn.execute(
                f"SELECT 1 FROM access_group_members WHERE group_id = ? AND {column} = ?",
                (group.id, member),
            ).fetchone() is None:
                conn.execute(
                    f"INSERT INTO access_group_members (group_id, {column}) VALUES (?, ?)",
                    (group.id, member),
                )
        return self.get(group.id)

    def remove_member(self, group_id: int, *, user_id: int | None = None,
                      key_id: int | None = None) -> Group:
        """Remove a user or an API key from a group (one that is not in it: nothing to do)."""
        group = self.get(group_id)
        column, member = _member(user_id, key_id)
        with self.db.write() as conn:
            conn.execute(
                f"DELETE FROM access_group_members WHERE group_id = ? AND {column} = ?",
                (group.id, member),
            )
        return self.get(group.id)

    def _check_member(self, conn: Connection, column: str, member: int) -> None:
        if column == "user_id":
            sql = "SELECT 1 FROM memberships WHERE user_id = ? AND workspace_id = ?"
        else:
            sql = "SELECT 1 FROM api_keys WHERE id = ? AND workspace_id = ?"
        if conn.execute(sql, (member, self.workspace_id)).fetchone() is None:
            raise NotFound(f"{column[:-3]} {member} is not in this workspace")

    def _with_members(self, groups: list[Group]) -> list[Group]:
        by_id = {g.id: g for g in groups}
        if not by_id:
            return groups
        ids = sorted(by_id)
        rows = self.db.conn.execute(
            "SELECT group_id, user_id, key_id FROM access_group_members WHERE group_id IN "
            f"({','.join('?' * len(ids))}) ORDER BY group_id, user_id, key_id",
            ids,
        )
        for r in rows:
            group = by_id[int(r[0])]
            if r[1] is not None:
                group.users.append(int(r[1]))
            else:
                group.keys.append(int(r[2]))
        return groups

    # -- sources ----------------------------------------------------------------------------
    def source_groups(self, source_id: int) -> list[int] | None:
        """The groups a source's documents are restricted to (None: unrestricted)."""
        row = self.db.conn.execute(
            "SELECT restricted FROM sources WHERE id = ?", (source_id,)
        ).fetchone()
        if row is None:
            raise NotFound(f"source {source_id} does not exist")
        if not row[0]:
            return None
        return [int(r[0]) for r in self.db.conn.execute(
            "SELECT group_id FROM source_groups WHERE source_id = ? ORDER BY group_id",
            (source_id,),
        )]

    def set_source_groups(self, source_id: int, groups: Sequence[int] | None) -> list[int]:
        """Restrict a source (None: unrestricted) and every document it synced, in one
        transaction; the ids of those documents."""
        with self.db.write() as conn:
            conn.execute("DELETE FROM source_groups WHERE source_id = ?", (source_id,))
            conn.execute(
                f"UPDATE sources SET restricted = ?, updated_at = {self.db.now} WHERE id = ?",
                (0 if groups is None else 1, source_id),
            )
            conn.executemany(
                "INSERT INTO source_groups (source_id, group_id) VALUES (?, ?)",
                [(source_id, g) for g in sorted(set(groups or ()))],
            )
            docs = [int(r[0]) for r in conn.execute(
                "SELECT document_id FROM source_items WHERE source_id = ? "
                "AND document_id IS NOT NULL",
                (source_id,),
            )]
            for doc_id in docs:
                conn.execute("DELETE FROM document_groups WHERE document_id = ?", (doc_id,))
                conn.execute(
                    "UPDATE documents SET restricted = ? WHERE id = ?",
                    (0 if groups is None else 1, doc_id),
                )
                conn.executemany(
                    "INSERT INTO document_groups (document_id, group_id) VALUES (?, ?)",
                    [(doc_id, g) for g in sorted(set(groups or ()))],
                )
        return docs


def _clean(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("a group name has 1 to 100 characters")
    return name


def _member(user_id: int | None, key_id: int | None) -> tuple[str, int]:
    if (user_id is None) == (key_id is None):
        raise InvalidInput("name either a user or an API key")
    return ("user_id", user_id) if user_id is not None else ("key_id", int(key_id or 0))


def _group(row: Row) -> Group:
    return Group(id=int(row["id"]), workspace_id=int(row["workspace_id"]), name=row["name"],
                 description=row["description"], created_at=str(row["created_at"]))
