"""Progress events the ingestion pipeline reports to whoever drives it (CLI bar, API job)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

FileStatus = Literal["added", "updated", "unchanged", "failed"]


@dataclass(slots=True)
class FileResult:
    """What happened to one file."""

    source: str
    status: FileStatus
    chunks: int = 0
    document_id: int | None = None
    error: str | None = None


@dataclass(slots=True)
class IngestReport:
    """The outcome of one ingestion run."""

    files: list[FileResult] = field(default_factory=list)
    chunks_embedded: int = 0
    seconds: float = 0.0

    @property
    def failed(self) -> list[FileResult]:
        """Files that could not be ingested."""
        return [f for f in self.files if f.status == "failed"]

    def count(self, status: FileStatus) -> int:
        """How many files ended with ``status``."""
        return sum(1 for f in self.files if f.status == status)


class IngestListener(Protocol):
    """Receives progress; every method is optional to act on."""

    def file_done(self, result: FileResult) -> None:
        """A file was parsed and written (or skipped, or failed)."""

    def queued(self, count: int) -> None:
        """``count`` more chunks were queued for embedding: what ``embedded`` will count up to,
        whether they come from this run's files or from an earlier run resumed."""

    def embedded(self, count: int) -> None:
        """``count`` more chunks got their vectors."""


class NullListener:
    """Ignores progress."""

    def file_done(self, result: FileResult) -> None:
        """Ignore."""

    def queued(self, count: int) -> None:
        """Ignore."""

    def embedded(self, count: int) -> None:
        """Ignore."""
