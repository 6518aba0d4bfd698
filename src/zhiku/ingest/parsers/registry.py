"""The parser protocol and the registry that picks a parser by file extension."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Protocol

from zhiku.core.errors import ParseError, UnsupportedFormat, ZhikuError
from zhiku.ingest.blocks import ParsedDocument
from zhiku.ingest.parsers.zipguard import ZipLimits


@dataclass(frozen=True, slots=True)
class ParseOptions:
    """Knobs a parser may honour: OCR, and the limits that keep a hostile file's memory use
    bounded (pixels decoded or rendered per image or page, what a zip container may hold)."""

    ocr: bool = True
    max_pixels: int = 40_000_000
    zip_limits: ZipLimits = field(default_factory=ZipLimits)


class Parser(Protocol):
    """Turns the bytes of one file into blocks. Raises ``ParseError`` with a clear message."""

    extensions: tuple[str, ...]

    def parse(self, data: bytes, *, filename: str, options: ParseOptions) -> ParsedDocument:
        """Parse ``data`` (the whole file) into a document."""
        ...


class DocumentParser(Protocol):
    """What the pipeline parses with: the registry itself, or a sandbox around it."""

    def parse(self, data: bytes, *, filename: str, options: ParseOptions) -> ParsedDocument:
        """Parse one file (``filename`` picks the format); ``ZhikuError`` when it cannot."""
        ...


class ParserRegistry:
    """Maps lower-case extensions (without the dot) to parsers."""

    def __init__(self, parsers: Iterable[Parser] = ()) -> None:
        self._by_ext: dict[str, Parser] = {}
        for parser in parsers:
            self.register(parser)

    def register(self, parser: Parser) -> None:
        """Add a parser for each of its extensions (a later one wins)."""
        for ext in parser.extensions:
            self._by_ext[ext.lower().lstrip(".")] = parser

    @property
    def extensions(self) -> list[str]:
        """Every extension some parser handles."""
        return sorted(self._by_ext)

    def for_name(self, filename: str) -> Parser:
        """The parser for ``filename``; ``UnsupportedFormat`` when there is none."""
        ext = PurePath(filename).suffix.lower().lstrip(".")
        parser = self._by_ext.get(ext)
        if parser is None:
            found = f"unsupported file type '.{ext}'" if ext else "file has no extension"
            raise UnsupportedFormat(
                f"{found}; accepted: {', '.join('.' + e for e in self.extensions)}",
                supported=self.extensions,
            )
        return parser

    def parse(self, data: bytes, *, filename: str, options: ParseOptions) -> ParsedDocument:
        """Parse with the right parser and insist on some text coming out."""
        if not data:
            raise ParseError("file is empty")
        parser = self.for_name(filename)
        try:
            doc = parser.parse(data, filename=filename, options=options)
        except ZhikuError:
            raise
        except MemoryError as exc:  # the worker process that raised it is replaced
            raise ParseError("the file needs more memory to parse than is allowed") from exc
        except Exception as exc:  # a library choking on a damaged file: this file fails alone
            raise ParseError(
                f"corrupt or unreadable file ({type(exc).__name__}: {str(exc)[:200]})"
            ) from exc
        if not any(block.text.strip() for block in doc.blocks):
            raise ParseError("no text could be extracted from the file")
        return doc


def default_registry() -> ParserRegistry:
    """A registry with every built-in parser."""
    from zhiku.ingest.parsers import builtin

    return ParserRegistry(builtin.all_parsers())
