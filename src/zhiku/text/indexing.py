"""What the full-text index and the embedder see of a chunk."""

from __future__ import annotations

from collections.abc import Sequence


def index_text(heading_path: Sequence[str], text: str) -> str:
    """What is indexed and embedded for a chunk: its heading path, then its text."""
    return (" > ".join(heading_path) + "\n" + text) if heading_path else text
