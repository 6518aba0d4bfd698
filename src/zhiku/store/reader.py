"""Who reads: the reader scope every retrieval query of the store applies.

A ``Reader`` is either everyone's administrator (``Reader.everything()``: reads every document)
or a set of group ids: it reads the unrestricted documents and those restricted to one of its
groups. ``Reader.public()`` (no groups) reads the unrestricted documents only, and is what a
query gets when nobody says who reads, so a forgotten scope hides restricted text instead of
showing it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True, slots=True)
class Reader:
    """A reader scope: ``groups`` None reads everything."""

    groups: frozenset[int] | None

    @classmethod
    def everything(cls) -> Reader:
        """Reads every document (workspace administrators, the operator's CLI, jobs)."""
        return cls(None)

    @classmethod
    def public(cls) -> Reader:
        """Reads the unrestricted documents only (anonymous visitors, no scope given)."""
        return cls(frozenset())

    @classmethod
    def of(cls, groups: Iterable[int] | None) -> Reader:
        """The scope of a resolved group set (None: everything)."""
        return cls(None if groups is None else frozenset(int(g) for g in groups))

    @property
    def unlimited(self) -> bool:
        """Whether this reader sees every document."""
        return self.groups is None

    def may_read(self, restricted: bool, groups: Iterable[int]) -> bool:
        """Whether a document (``restricted``, with these ``groups``) is readable."""
        return self.groups is None or not restricted or not self.groups.isdisjoint(groups)


PUBLIC = Reader.public()
EVERYTHING = Reader.everything()

KEEP = "keep"
"""``replace_document(groups=KEEP)``: a replaced document keeps its restriction."""


def reader_sql(
    reader: Reader, dialect: Literal["sqlite", "postgres"], alias: str = "d"
) -> tuple[str, list[Any]]:
    """``(condition, params)`` with ``?`` placeholders: the ``documents`` row ``alias`` is
    readable by ``reader``. Always a condition (never "no condition") for a limited reader."""
    true = "1" if dialect == "sqlite" else "TRUE"
    if reader.groups is None:
        return true, []
    if not reader.groups:
        return f"{alias}.restricted = 0", []
    groups = sorted(reader.groups)
    if dialect == "sqlite":
        member, params = f"g.group_id IN ({','.join('?' * len(groups))})", list[Any](groups)
    else:
        member, params = "g.group_id = ANY(?::bigint[])", [groups]
    return (
        f"({alias}.restricted = 0 OR EXISTS (SELECT 1 FROM document_groups g "
        f"WHERE g.document_id = {alias}.id AND {member}))",
        params,
    )
