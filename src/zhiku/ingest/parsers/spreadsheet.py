"""Spreadsheets (``.xlsx``, ``.xlsm``) and delimited text (``.csv``, ``.tsv``)."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Sequence

from zhiku.core.errors import ParseError
from zhiku.ingest.blocks import Block, BlockKind, ParsedDocument
from zhiku.ingest.parsers.registry import ParseOptions
from zhiku.ingest.parsers.zipguard import check_zip
from zhiku.text.encoding import decode_text

_QUESTION = {"question", "questions", "q", "问题", "问", "提问", "title"}
_ANSWER = {"answer", "answers", "a", "答案", "答", "回答", "回复"}


def row_text(header: Sequence[str], values: Sequence[str]) -> str:
    """Render a row as ``"Header1: v1; Header2: v2"``, skipping empty cells."""
    parts: list[str] = []
    for i, value in enumerate(values):
        value = value.strip()
        if not value:
            continue
        name = header[i].strip() if i < len(header) else ""
        parts.append(f"{name}: {value}" if name else value)
    return "; ".join(parts)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def table_blocks(rows: Iterable[Sequence[object]], section: str | None = None) -> list[Block]:
    """Blocks for one table: the first non-empty row is the header; FAQ pairs when detected."""
    header: list[str] | None = None
    q_col = a_col = -1
    blocks: list[Block] = []
    for raw in rows:
        cells = [_cell(v) for v in raw]
        if not any(cells):
            continue
        if header is None:
            header = cells
            keys = [h.lower() for h in header]
            q_col = next((i for i, k in enumerate(keys) if k in _QUESTION), -1)
            a_col = next((i for i, k in enumerate(keys) if k in _ANSWER), -1)
            continue
        cells += [""] * (len(header) - len(cells))
        if q_col >= 0 and a_col >= 0 and cells[q_col]:
            meta = {
                header[i] or f"col{i + 1}": v
                for i, v in enumerate(cells)
                if v and i not in (q_col, a_col) and i < len(header)
            }
            blocks.append(
                Block(BlockKind.FAQ, cells[q_col], section=section, answer=cells[a_col], meta=meta)
            )
        else:
            blocks.append(Block(BlockKind.TABLE_ROW, row_text(header, cells), section=section))
    return blocks


class SpreadsheetParser:
    """Every sheet's rows as header-labelled table rows (or FAQ pairs)."""

    extensions: tuple[str, ...] = ("xlsx", "xlsm", "csv", "tsv")

    def parse(self, data: bytes, *, filename: str, options: ParseOptions) -> ParsedDocument:
        """Parse a workbook or a delimited text file."""
        if filename.lower().endswith((".csv", ".tsv")):
            return self._parse_delimited(data, tab=filename.lower().endswith(".tsv"))
        check_zip(data, options.zip_limits)
        return self._parse_workbook(data)

    def _parse_delimited(self, data: bytes, *, tab: bool) -> ParsedDocument:
        text, encoding = decode_text(data)
        dialect: type[csv.Dialect] | csv.Dialect = csv.excel_tab if tab else csv.excel
        if not tab:
            try:
                dialect = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|")
            except csv.Error:
                dialect = csv.excel
        try:
            rows = list(csv.reader(io.StringIO(text), dialect))
        except csv.Error as exc:
            raise ParseError(f"malformed CSV: {exc}") from exc
        return ParsedDocument(blocks=table_blocks(rows), meta={"encoding": encoding})

    def _parse_workbook(self, data: bytes) -> ParsedDocument:
        from openpyxl import load_workbook

        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
            raise ParseError(f"corrupt or unreadable spreadsheet: {exc}") from exc
        try:
            blocks: list[Block] = []
            for ws in wb.worksheets:
                blocks.extend(table_blocks(ws.iter_rows(values_only=True), section=ws.title))
            return ParsedDocument(blocks=blocks, pages=len(wb.worksheets))
        finally:
            wb.close()
