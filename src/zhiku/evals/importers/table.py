"""Eval sets from spreadsheets people keep: CSV/TSV or XLSX with a header row.

Header names are accepted in English or Chinese (``question``/问题, ``reference_answer``/参考答案,
``expected_sources``/预期来源, ``id``/编号, ``answerable``/可回答, ``tags``/标签, …). Several
values in a cell are separated by ``|`` (or a line break). A row that cannot be read is not
imported: it is reported with its row number (as the spreadsheet numbers it, the header being
row 1) and the rest is kept.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from zhiku.core.errors import InvalidInput
from zhiku.evals.importers.common import boolean, graded, graded_chunks
from zhiku.evals.types import EvalQuestion
from zhiku.text.encoding import decode_text

COLUMNS: dict[str, tuple[str, ...]] = {
    "question": ("question", "questions", "query", "q", "问题", "提问", "题目"),
    "reference_answers": ("reference_answers", "reference_answer", "reference", "answer",
                          "answers", "参考答案", "答案", "标准答案", "回答"),
    "expected_sources": ("expected_sources", "expected_source", "source", "sources",
                         "预期来源", "来源", "出处", "来源文档"),
    "expected_chunks": ("expected_chunks", "预期片段"),
    "id": ("id", "编号", "序号"),
    "answerable": ("answerable", "可回答", "能回答"),
    "tags": ("tags", "tag", "标签"),
}
_ALIASES = {alias: name for name, aliases in COLUMNS.items() for alias in aliases}
_YES_NO = {"是": "1", "否": "0", "对": "1", "错": "0"}
MAX_ROWS = 100_000


@dataclass(slots=True)
class RowError:
    """A row left out and why (``row``: 1-based, the header is row 1)."""

    row: int
    error: str


@dataclass(slots=True)
class TableImport:
    """The questions read and the rows left out."""

    questions: list[EvalQuestion] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def _cells(value: str) -> list[str]:
    return [v.strip() for v in value.replace("\n", "|").split("|") if v.strip()]


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _columns(header: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for i, name in enumerate(header):
        key = _ALIASES.get(name.strip().lower().replace(" ", "_"))
        if key is not None and key not in found:
            found[key] = i
    if "question" not in found:
        raise InvalidInput("the header row needs a question column (question / 问题)")
    return found


def read_rows(rows: Iterable[Sequence[object]]) -> TableImport:
    """Questions from rows whose first non-empty row is the header."""
    out = TableImport()
    read: list[tuple[int, EvalQuestion]] = []
    cols: dict[str, int] | None = None
    for n, raw in enumerate(rows, 1):
        cells = [_text(v) for v in raw]
        if not any(cells):
            continue
        if cols is None:
            cols = _columns(cells)
            continue
        if n > MAX_ROWS:
            raise InvalidInput(f"at most {MAX_ROWS:,} rows")

        def get(name: str, cells: list[str] = cells, cols: dict[str, int] = cols) -> str:
            i = cols.get(name, -1)
            return cells[i] if 0 <= i < len(cells) else ""

        try:
            text = get("question")
            if not text:
                raise InvalidInput("the question is empty")
            answerable = get("answerable")
            read.append((n, EvalQuestion(
                question=text, ext_id=get("id") or f"row-{n}",
                expected_sources=graded(_cells(get("expected_sources")), f"row {n}"),
                expected_chunks=graded_chunks(_cells(get("expected_chunks")), f"row {n}"),
                reference_answers=_cells(get("reference_answers")),
                answerable=boolean(_YES_NO.get(answerable, answerable), True),
                tags=_cells(get("tags")),
            )))
        except InvalidInput as exc:
            out.errors.append(RowError(n, exc.message.removeprefix(f"row {n}: ")))
    if cols is None:
        raise InvalidInput("the file has no header row")
    seen: set[str] = set()
    for n, q in read:
        if q.ext_id in seen:
            out.errors.append(RowError(n, f"question id '{q.ext_id}' appears twice"))
            continue
        seen.add(q.ext_id)
        out.questions.append(q)
    out.errors.sort(key=lambda e: e.row)
    return out


def read_csv(data: bytes, delimiter: str | None = None) -> TableImport:
    """Questions from CSV (or TSV) bytes in any common encoding."""
    text, _ = decode_text(data)
    if delimiter is None:
        first = text.split("\n", 1)[0]
        delimiter = "\t" if first.count("\t") > first.count(",") else ","
    return read_rows(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=delimiter))


def read_xlsx(data: bytes) -> TableImport:
    """Questions from the first sheet of an XLSX workbook."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InvalidInput(f"not a readable XLSX workbook: {exc}") from exc
    try:
        sheet = book.worksheets[0]
        return read_rows(sheet.iter_rows(values_only=True))
    finally:
        book.close()


def read_table(data: bytes, filename: str) -> TableImport:
    """CSV, TSV or XLSX by the file name's extension."""
    name = filename.lower()
    if name.endswith((".xlsx", ".xlsm")):
        return read_xlsx(data)
    if name.endswith(".tsv"):
        return read_csv(data, "\t")
    if name.endswith(".csv"):
        return read_csv(data)
    raise InvalidInput("an eval-set table is a .csv, .tsv or .xlsx file")


def load(path: Path) -> list[EvalQuestion]:
    """Every question of a CSV, TSV or XLSX file; any bad row is an ``InvalidInput`` naming
    the rows (the importer interface takes all or nothing)."""
    found = read_table(path.read_bytes(), path.name)
    if found.errors:
        listed = "; ".join(f"row {e.row}: {e.error}" for e in found.errors[:20])
        raise InvalidInput(f"{path}: {listed}")
    return found.questions
