"""The files of one derived index: the graph, the ids and marks it holds, and a header.

``<db>.ann/<kb>-<model>.graph``, ``.ids.npy``, ``.marks.npy`` and ``.json``. The header is
written last, after the other files are complete and renamed into place, and records what the
index was derived from (knowledge base, model, dimension, vector version, edit generation)
and each file's size
and CRC-32; a file that does not match its header is never loaded.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

FORMAT = 1
_PARTS = ("graph", "ids.npy", "marks.npy")


@dataclass(frozen=True, slots=True)
class Header:
    """What a saved index was derived from, and how to check its files."""

    format: int
    kb_id: int
    model: str
    dim: int
    version: int  # the knowledge base's vector version the index matched when saved
    generation: int  # the database's edit generation then
    count: int
    files: dict[str, tuple[int, int]]  # part -> (size, crc32)


def stem(folder: Path, kb_id: int, model: str) -> Path:
    """Where the files of (``kb_id``, ``model``) live, without their suffix (a model id may
    hold any character, so it is kept readable and made unique by a hash)."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", model)[:40]
    digest = hashlib.sha1(model.encode()).hexdigest()[:8]
    return folder / f"{kb_id}-{slug}-{digest}"


def _crc(path: Path) -> int:
    crc = 0
    with path.open("rb") as f:
        while block := f.read(1 << 22):
            crc = zlib.crc32(block, crc)
    return crc


def part(base: Path, name: str) -> Path:
    return base.with_name(f"{base.name}.{name}")


def write(base: Path, header: Header, ids: np.ndarray, marks: np.ndarray) -> None:
    """Seal files already written to ``<part>.tmp`` (the graph) and write the rest: each
    renamed into place, then the header with their sizes and checksums."""
    part(base, "json").unlink(missing_ok=True)  # stale from here until the new header lands
    with part(base, "ids.npy.tmp").open("wb") as f:
        np.save(f, ids, allow_pickle=False)
    with part(base, "marks.npy.tmp").open("wb") as f:
        np.save(f, marks.view(np.uint8).reshape(-1, 16), allow_pickle=False)
    files: dict[str, tuple[int, int]] = {}
    for name in _PARTS:
        tmp = part(base, f"{name}.tmp")
        files[name] = (tmp.stat().st_size, _crc(tmp))
        os.replace(tmp, part(base, name))
    body = asdict(header) | {"files": files}
    tmp = part(base, "json.tmp")
    tmp.write_text(json.dumps(body), encoding="utf-8")
    os.replace(tmp, part(base, "json"))


def read_header(base: Path) -> Header | None:
    """The header, or ``None`` when there is none (``ValueError`` when it is unreadable)."""
    path = part(base, "json")
    if not path.exists():
        return None
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        files = {k: (int(v[0]), int(v[1])) for k, v in raw["files"].items()}
        return Header(
            format=int(raw["format"]), kb_id=int(raw["kb_id"]), model=str(raw["model"]),
            dim=int(raw["dim"]), version=int(raw["version"]),
            generation=int(raw["generation"]), count=int(raw["count"]),
            files=files,
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"unreadable index header {path}: {exc}") from exc


def check(base: Path, header: Header) -> None:
    """``ValueError`` unless every file has the size and checksum its header records."""
    for name in _PARTS:
        path = part(base, name)
        size, crc = header.files.get(name, (-1, -1))
        if not path.exists() or path.stat().st_size != size or _crc(path) != crc:
            raise ValueError(f"{path} does not match its header")


def read_keys(base: Path) -> tuple[np.ndarray, np.ndarray]:
    """The ids and marks saved beside the graph."""
    ids = np.load(part(base, "ids.npy"), allow_pickle=False).astype(np.int64, copy=False)
    marks = np.load(part(base, "marks.npy"), allow_pickle=False)
    return ids, np.ascontiguousarray(marks).view("V16").reshape(-1)


def remove(base: Path) -> None:
    for name in ("json", *_PARTS):
        part(base, name).unlink(missing_ok=True)
