"""Eval-set importers, one module per format; ``load`` picks one by name or file extension."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from zhiku.core.errors import InvalidInput
from zhiku.evals.importers import beir, csvfile, jsonl, squad, table
from zhiku.evals.types import EvalQuestion

Importer = Callable[[Path], list[EvalQuestion]]

IMPORTERS: dict[str, Importer] = {
    "jsonl": jsonl.load,
    "csv": csvfile.load,
    "beir": beir.load,
    "squad": squad.load,
    "xlsx": table.load,
}


def detect_format(path: Path) -> str:
    """The format a path most likely holds: a folder is BEIR, else by extension."""
    if path.is_dir():
        return "beir"
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix in (".csv", ".tsv"):
        return "csv"
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if suffix == ".json":
        return "squad"
    raise InvalidInput(f"cannot tell the format of {path}; pass --format jsonl|csv|xlsx|beir|squad")


def load(path: Path, fmt: str | None = None) -> list[EvalQuestion]:
    """Questions read from ``path`` in format ``fmt`` (detected when None)."""
    if not path.exists():
        raise InvalidInput(f"no such file or folder: {path}")
    chosen = fmt or detect_format(path)
    importer = IMPORTERS.get(chosen)
    if importer is None:
        raise InvalidInput(f"unknown eval-set format '{chosen}'; use one of {sorted(IMPORTERS)}")
    return importer(path)
