"""CSV (or TSV) eval sets with a header row.

Columns: ``question`` (required), ``id``, ``expected_sources``, ``expected_chunks``,
``reference_answers`` (or ``answer``), ``answerable``, ``tags``. Several values in one cell are
separated by ``|``.
"""

from __future__ import annotations

import csv
from pathlib import Path

from zhiku.core.errors import InvalidInput
from zhiku.evals.importers.common import boolean, graded, graded_chunks
from zhiku.evals.types import EvalQuestion


def _cells(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split("|") if v.strip()]


def load(path: Path) -> list[EvalQuestion]:
    """Every question of a CSV/TSV file."""
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    out = []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh, delimiter=delimiter)
        if not reader.fieldnames or "question" not in reader.fieldnames:
            raise InvalidInput(f"{path}: the header needs a 'question' column")
        for n, row in enumerate(reader, 2):
            where = f"{path}:{n}"
            text = (row.get("question") or "").strip()
            if not text:
                raise InvalidInput(f"{where}: empty question")
            answers = row.get("reference_answers") or row.get("answer")
            out.append(EvalQuestion(
                question=text,
                ext_id=(row.get("id") or "").strip(),
                expected_sources=graded(_cells(row.get("expected_sources")), where),
                expected_chunks=graded_chunks(_cells(row.get("expected_chunks")), where),
                reference_answers=_cells(answers),
                answerable=boolean(row.get("answerable"), True),
                tags=_cells(row.get("tags")),
            ))
    return out
