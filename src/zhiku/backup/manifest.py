"""A backup's manifest: what was backed up, from which backend and schema version, and each
file's size and SHA-256, checked before anything is restored."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from zhiku.core.errors import InvalidInput

MANIFEST = "manifest.json"
FORMAT = 1


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One file of a backup, relative to its folder."""

    path: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Manifest:
    """What ``manifest.json`` holds."""

    zhiku_version: str
    schema_version: int
    backend: str  # sqlite | postgresql
    created_at: str
    files: list[FileEntry] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    format: int = FORMAT

    def write(self, folder: Path) -> None:
        """Write ``manifest.json`` into ``folder``."""
        (folder / MANIFEST).write_text(json.dumps(asdict(self), indent=2) + "\n",
                                       encoding="utf-8")

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        """The manifest of the backup in ``folder`` (``InvalidInput`` when missing or not
        one Zhiku wrote)."""
        path = folder / MANIFEST
        try:
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            files = [FileEntry(**f) for f in data.pop("files")]
            found = cls(files=files, **data)
        except FileNotFoundError:
            raise InvalidInput(f"{folder} is not a Zhiku backup: {MANIFEST} is missing") from None
        except (ValueError, TypeError, KeyError) as exc:
            raise InvalidInput(f"{path} is not a Zhiku backup manifest: {exc}") from None
        if found.format != FORMAT:
            raise InvalidInput(f"{path}: backup format {found.format} is not supported "
                               f"(this Zhiku reads format {FORMAT})")
        return found


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file, read 1 MiB at a time."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def describe(folder: Path, name: str) -> FileEntry:
    """The manifest entry of ``folder/name``."""
    path = folder / name
    return FileEntry(name, path.stat().st_size, sha256_of(path))


def verify(folder: Path, manifest: Manifest) -> None:
    """Every file the manifest lists is present, whole and unchanged; ``InvalidInput``
    naming the first one that is not."""
    for entry in manifest.files:
        path = folder / entry.path
        if Path(entry.path).is_absolute() or ".." in Path(entry.path).parts:
            raise InvalidInput(f"the manifest names a file outside the backup: {entry.path}")
        if not path.is_file():
            raise InvalidInput(f"backup file {entry.path} is missing")
        if path.stat().st_size != entry.size:
            raise InvalidInput(f"backup file {entry.path} is damaged: {path.stat().st_size} "
                               f"bytes, the manifest says {entry.size}")
        if sha256_of(path) != entry.sha256:
            raise InvalidInput(f"backup file {entry.path} is damaged: its SHA-256 does not "
                               "match the manifest")
