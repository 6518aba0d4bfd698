"""Who may read an answer that restates what a reply cited: the groups an FAQ document made
from a correction of that reply inherits.

A document restricted to a set of groups is read by members of any of them (an empty set:
administrators only). Readers who may read *every* restricted document the reply cited are the
members of the groups all their sets share, so the inherited restriction is the intersection
of those sets; unrestricted documents add nothing, and nothing restricted cited means no
restriction.

Each citation names its document by the most exact identifier it stored: its document id,
else its chunk's document, else its source (every document of that source in the workspace's
knowledge bases). An id counts only for a document of this workspace whose source is the one
cited. A cited document none of them finds any more (deleted since) can no longer be checked:
it counts as restricted to no group, so the FAQ is left to administrators.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from zhiku.store.records import Document

if TYPE_CHECKING:
    from zhiku.service import Zhiku


def cited_documents(zk: Zhiku, citations: Iterable[Mapping[str, Any]]) -> list[list[Document]]:
    """The documents each citation names in this workspace (an empty list: none found)."""
    cites = list(citations)
    kb_ids = [kb.id for kb in zk.list_kbs()]
    store = zk.store
    by_id = store.documents_by_id({i for c in cites if (i := _id(c, "document_id"))})
    chunk_ids = [i for c in cites if (i := _id(c, "chunk_id"))]
    chunks = store.get_chunks(chunk_ids) if chunk_ids else {}
    of_chunk = store.documents_by_id({c.document_id for c in chunks.values()})
    out: list[list[Document]] = []
    for c in cites:
        source = str(c.get("source") or "")
        chunk = chunks.get(_id(c, "chunk_id") or 0)
        for doc in (by_id.get(_id(c, "document_id") or 0),
                    of_chunk.get(chunk.document_id) if chunk is not None else None):
            if doc is not None and doc.kb_id in kb_ids and doc.source == source:
                out.append([doc])
                break
        else:
            named = (store.find_document(kb, source) for kb in kb_ids) if source else ()
            out.append([d for d in named if d is not None])
    return out


def inherited_groups(zk: Zhiku, citations: Iterable[Mapping[str, Any]]) -> list[int] | None:
    """The group ids an answer restating ``citations`` is restricted to: the intersection of
    the group sets of the restricted documents cited (None: nothing restricted is cited)."""
    found = cited_documents(zk, citations)
    restricted = [d for docs in found for d in docs if d.restricted]
    sets: list[set[int]] = [set() for docs in found if not docs]  # gone: administrators only
    groups = zk.store.document_groups([d.id for d in restricted]) if restricted else {}
    sets += [set(groups.get(d.id, ())) for d in restricted]
    if not sets:
        return None
    return sorted(set.intersection(*sets))


def _id(citation: Mapping[str, Any], key: str) -> int | None:
    value = citation.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 \
        else None

