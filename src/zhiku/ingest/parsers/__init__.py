"""One parser module per format, registered by file extension."""

from zhiku.ingest.parsers.registry import Parser, ParserRegistry, default_registry

__all__ = ["Parser", "ParserRegistry", "default_registry"]
