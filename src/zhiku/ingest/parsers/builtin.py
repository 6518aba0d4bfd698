"""Every built-in parser, one instance each."""

from __future__ import annotations

from zhiku.ingest.parsers.docx import DocxParser
from zhiku.ingest.parsers.html import HtmlParser
from zhiku.ingest.parsers.image import ImageParser
from zhiku.ingest.parsers.jsonfile import JsonParser
from zhiku.ingest.parsers.markdown import MarkdownParser
from zhiku.ingest.parsers.pdf import PdfParser
from zhiku.ingest.parsers.pptx import PptxParser
from zhiku.ingest.parsers.registry import Parser
from zhiku.ingest.parsers.spreadsheet import SpreadsheetParser
from zhiku.ingest.parsers.text import TextParser


def all_parsers() -> list[Parser]:
    """One instance of each built-in parser."""
    return [
        TextParser(),
        MarkdownParser(),
        HtmlParser(),
        PdfParser(),
        DocxParser(),
        SpreadsheetParser(),
        PptxParser(),
        JsonParser(),
        ImageParser(),
    ]
