"""Re-analysis of a knowledge base's full-text terms after the analyzer changed.

Chunks keep their text and vectors; only the terms of the searchable chunks whose analysis
differs are rewritten, through the store, so each backend keeps its own statistics (SQLite's
FTS5 table and in-memory index, PostgreSQL's tsvectors with ``term_df`` and ``chunk_stats``).
Since ``ANALYZER_VERSION`` 2 these are the chunks holding Traditional characters.
"""

from __future__ import annotations

from zhiku.store.protocols import Store
from zhiku.text.indexing import index_text
from zhiku.text.tokenize import analyze, needs_reanalysis


def reanalyze_kb(store: Store, kb_id: int) -> int:
    """Re-index the terms of a knowledge base's chunks that an index analyzed before script
    folding holds under other terms; the number of chunks re-indexed. One transaction a
    document, so a large knowledge base is never locked for long and a second run resumes."""
    done = 0
    for doc in store.list_documents(kb_id):
        terms: dict[int, list[str]] = {}
        for chunk in store.list_chunks(doc.id):
            text = index_text(chunk.heading_path, chunk.text)
            if chunk.searchable and needs_reanalysis(text):
                terms[chunk.id] = analyze(text)
        store.set_chunk_terms(terms)
        done += len(terms)
    return done
