"""JSON (``.json``) and JSON Lines (``.jsonl``, ``.ndjson``) as flattened ``key.path: value``."""

from __future__ import annotations

import json

from zhiku.core.errors import ParseError
from zhiku.ingest.blocks import Block, BlockKind, ParsedDocument
from zhiku.ingest.parsers.registry import ParseOptions
from zhiku.text.encoding import decode_text


def flatten(value: object, prefix: str = "") -> list[str]:
    """``{"a": {"b": 1}, "c": [2]}`` -> ``["a.b: 1", "c.0: 2"]``; empty values are skipped."""
    if isinstance(value, dict):
        items: list[tuple[str, object]] = [(str(k), v) for k, v in value.items()]
    elif isinstance(value, list):
        items = [(str(i), v) for i, v in enumerate(value)]
    else:
        if value is None or (isinstance(value, str) and not value.strip()):
            return []
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        return [f"{prefix}: {text.strip()}" if prefix else text.strip()]
    lines: list[str] = []
    for key, child in items:
        lines.extend(flatten(child, f"{prefix}.{key}" if prefix else key))
    return lines


def _record_block(value: object, prefix: str = "") -> Block | None:
    text = "\n".join(flatten(value, prefix))
    return Block(BlockKind.PARAGRAPH, text) if text else None


class JsonParser:
    """One paragraph per top-level item (JSON) or per record (JSON Lines)."""

    extensions: tuple[str, ...] = ("json", "jsonl", "ndjson")

    def parse(self, data: bytes, *, filename: str, options: ParseOptions) -> ParsedDocument:
        """Parse and flatten; ``ParseError`` names the line of invalid JSON."""
        text, encoding = decode_text(data)
        if filename.lower().endswith((".jsonl", ".ndjson")):
            records = []
            for number, line in enumerate(text.splitlines(), start=1):
                if line.strip():
                    records.append(self._load(line, number))
            blocks = [b for r in records if (b := _record_block(r)) is not None]
        else:
            value = self._load(text, 0)
            if isinstance(value, dict):
                parts = [_record_block(v, str(k)) for k, v in value.items()]
            elif isinstance(value, list):
                parts = [_record_block(v) for v in value]
            else:
                parts = [_record_block(value)]
            blocks = [b for b in parts if b is not None]
        return ParsedDocument(blocks=blocks, meta={"encoding": encoding})

    @staticmethod
    def _load(text: str, line_number: int) -> object:
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            line = line_number or exc.lineno
            raise ParseError(f"invalid JSON on line {line}: {exc.msg}", line=line) from exc
