"""Finding the files to ingest: folders (recursive), files and glob patterns."""

from __future__ import annotations

import glob
from collections.abc import Iterable, Iterator
from pathlib import Path

from zhiku.core.errors import NotFound

_GLOB_CHARS = set("*?[")


def _walk(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts):
            continue  # hidden files and folders (.git, .DS_Store, ...)
        if path.is_file():
            yield path


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Absolute file paths for folders, files and globs, de-duplicated, in a stable order."""
    found: dict[Path, None] = {}
    for raw in paths:
        text = str(raw)
        path = Path(text).expanduser()
        if path.is_dir():
            found.update((p.resolve(), None) for p in _walk(path))
        elif path.is_file():
            found[path.resolve()] = None
        elif _GLOB_CHARS & set(text):
            matches = sorted(glob.glob(str(path), recursive=True))
            for match in matches:
                m = Path(match)
                if m.is_dir():
                    found.update((p.resolve(), None) for p in _walk(m))
                elif m.is_file():
                    found[m.resolve()] = None
            if not matches:
                raise NotFound(f"no file matches '{text}'")
        else:
            raise NotFound(f"no such file or folder: '{text}'")
    return list(found)
