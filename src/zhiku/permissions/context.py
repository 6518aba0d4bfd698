"""Who reads, for the code running now: one reader slot per request or command.

The faces fill it in, the facade reads it when it searches, so no retrieval path needs a
``reader`` argument threaded through chat, apps, workflows and agents. The HTTP API opens a
slot per request in an ASGI middleware and ``deps.get_principal`` fills it from the caller's
groups (the slot is shared, so the endpoint's worker thread sees what the dependency set).
The CLI reads as the operator (everything), the job worker as the system (everything: the
request that queued a job was checked). Nothing open, or nothing filled in, reads the
unrestricted documents only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from zhiku.store.reader import PUBLIC, Reader


@dataclass(slots=True)
class ReaderSlot:
    """The reader of the current request or command (None until known: public only)."""

    reader: Reader | None = None


_current: ContextVar[ReaderSlot | None] = ContextVar("zhiku_reader", default=None)


def current_reader() -> Reader:
    """The reader of the code running now; public-only when nobody said."""
    slot = _current.get()
    return slot.reader if slot is not None and slot.reader is not None else PUBLIC


@contextmanager
def reading_as(reader: Reader | None) -> Iterator[ReaderSlot]:
    """Run the code inside as ``reader`` (None: to be filled in with ``identify_reader``)."""
    token = _current.set(ReaderSlot(reader))
    try:
        yield _current.get() or ReaderSlot(reader)
    finally:
        _current.reset(token)


def identify_reader(reader: Reader) -> None:
    """Fill in the open slot (the request's caller, once authenticated)."""
    slot = _current.get()
    if slot is not None:
        slot.reader = reader
