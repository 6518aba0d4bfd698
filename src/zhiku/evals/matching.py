"""Matching retrieved sources to expected ones, and turning hits into judged rankings.

Expected sources may be written as the full path, a trailing part of it, the file name or the
file stem (a BEIR corpus id ``123`` matches the ingested ``123.md``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence


def source_keys(source: str) -> list[str]:
    """Every key under which ``source`` may be named: itself, its path suffixes, its stem."""
    parts = source.replace("\\", "/").split("/")
    keys = [source]
    keys += ["/".join(parts[i:]) for i in range(1, len(parts))]
    name = parts[-1]
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    if stem != name:
        keys.append(stem)
    return keys


def match_source(source: str, expected: Mapping[str, int]) -> str | None:
    """The expected key that ``source`` stands for, or None."""
    for key in source_keys(source):
        if key in expected:
            return key
    return None


def ranked_sources(sources: Iterable[str], expected: Mapping[str, int]) -> list[str]:
    """Document-level ranking: each document once, at its best rank, named by its expected key.

    Unmatched documents keep their own source as the key, so they count as not relevant.
    """
    out: list[str] = []
    seen: set[str] = set()
    for source in sources:
        key = match_source(source, expected) or source
        if key not in seen:
            seen.add(key)
            out.append(key)
    return out


def ranked_chunks(chunk_ids: Sequence[int]) -> list[str]:
    """Chunk-level ranking keys (strings, like the qrels keys)."""
    return [str(c) for c in dict.fromkeys(chunk_ids)]
