"""A workspace's permissions (``zk.permissions``): groups and their members, and which groups
may read a document or a source. Every change is audit-logged."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from zhiku.audit.recorder import Audit
from zhiku.permissions.records import Group
from zhiku.permissions.store import GroupStore
from zhiku.store.protocols import Store
from zhiku.store.records import Document

GroupRefs = Sequence[int | str] | None
"""Groups by id or name; None: unrestricted (everyone in the workspace reads it)."""


class Permissions:
    """Groups of readers and the restrictions of documents and sources in one workspace."""

    def __init__(self, store: Store, groups: GroupStore, audit: Audit,
                 document: Callable[[str, int | str], Document]) -> None:
        """``document(kb, ref)``: a document of the workspace the caller may read."""
        self._store = store
        self.groups = groups
        self._audit = audit
        self._document = document

    # -- groups -----------------------------------------------------------------------------
    def list_groups(self) -> list[Group]:
        """Every group with its members."""
        return self.groups.all()

    def group(self, ref: int | str) -> Group:
        """A group by id or name."""
        return self.groups.get(ref)

    def create_group(self, name: str, description: str = "") -> Group:
        """A new group (names are unique in the workspace)."""
        group = self.groups.create(name, description)
        self._audit("group.create", "group", group.id, group.name)
        return group

    def update_group(self, ref: int | str, *, name: str | None = None,
                     description: str | None = None) -> Group:
        """Rename a group or change its description."""
        group = self.groups.update(self.groups.get(ref).id, name=name, description=description)
        self._audit("group.update", "group", group.id, group.name,
                    detail={"name": name, "description": description is not None})
        return group

    def delete_group(self, ref: int | str) -> Group:
        """Delete a group (what it restricted stays restricted)."""
        group = self.groups.delete(self.groups.get(ref).id)
        self._audit("group.delete", "group", group.id, group.name)
        return group

    def add_member(self, ref: int | str, *, user_id: int | None = None,
                   key_id: int | None = None) -> Group:
        """Add a user or an API key of the workspace to a group."""
        group = self.groups.add_member(self.groups.get(ref).id, user_id=user_id, key_id=key_id)
        self._audit("group.member_add", "group", group.id, group.name,
                    detail=_member(user_id, key_id))
        return group

    def remove_member(self, ref: int | str, *, user_id: int | None = None,
                      key_id: int | None = None) -> Group:
        """Remove a user or an API key from a group."""
        group = self.groups.remove_member(self.groups.get(ref).id, user_id=user_id,
                                          key_id=key_id)
        self._audit("group.member_remove", "group", group.id, group.name,
                    detail=_member(user_id, key_id))
        return group

    # -- documents and sources ----------------------------------------------------------------
    def resolve(self, groups: GroupRefs) -> list[int] | None:
        """Group ids of ``groups`` (each must exist here); None stays None."""
        return None if groups is None else self.groups.resolve(list(groups))

    def document_groups(self, doc_ids: Sequence[int]) -> dict[int, list[int]]:
        """The groups of each restricted document among ``doc_ids`` (others left out)."""
        return self._store.document_groups(doc_ids)

    def groups_of(self, doc: Document) -> list[int] | None:
        """The groups a document is restricted to (None: unrestricted)."""
        return self._store.document_groups([doc.id]).get(doc.id, []) if doc.restricted else None

    def set_document_groups(self, kb: str, refs: Sequence[int | str],
                            groups: GroupRefs) -> list[Document]:
        """Restrict documents of knowledge base ``kb`` to ``groups`` (None: unrestricted; an
        empty list: administrators only)."""
        ids = self.resolve(groups)
        docs = [self._document(kb, r) for r in refs]
        self._store.set_document_groups([d.id for d in docs], ids)
        for doc in docs:
            self._audit("document.groups", "document", doc.id, doc.source,
                        detail={"kb": kb, "groups": ids})
        return [self._store.get_document(d.id) for d in docs]

    def source_groups(self, source_id: int) -> list[int] | None:
        """The groups a source's documents are restricted to (None: unrestricted)."""
        return self.groups.source_groups(source_id)

    def set_source_groups(self, source_id: int, name: str, groups: GroupRefs) -> list[int] | None:
        """Restrict a source and the documents it synced (those it syncs later inherit it)."""
        ids = self.resolve(groups)
        docs = self.groups.set_source_groups(source_id, ids)
        self._audit("source.groups", "source", source_id, name,
                    detail={"groups": ids, "documents": len(docs)})
        return ids


def _member(user_id: int | None, key_id: int | None) -> dict[str, Any]:
    return {"user_id": user_id} if user_id is not None else {"key_id": key_id}
