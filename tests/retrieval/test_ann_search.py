"""Search through the facade with the approximate vector index forced on (every knowledge base
above its size threshold) against exact search, on both backends: the same hits, deleted
documents never returned, the same hits after a restart. The knowledge base is smaller than the
graph's candidate list (``ann_ef_search``), so a search walks the whole graph and must find what
exact search finds. On PostgreSQL both facades search pgvector, which must hold to the same
promises."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from shared_data import Passage
from zhiku.core.settings import Settings
from zhiku.retrieval.types import Hit
from zhiku.service import Zhiku

pytest.importorskip("usearch")

KB = "abstracts"


def _ann(settings: Settings) -> Zhiku:
    return Zhiku(settings.model_copy(update={"ann_min_chunks": 1}))


def _exact(settings: Settings) -> Zhiku:
    return Zhiku(settings.model_copy(update={"ann": False}))


@pytest.fixture
def passages(tmp_path: Path, scifact_first: Callable[[int], list[Passage]]) -> list[Passage]:
    found = scifact_first(60)
    for p in found:
        (tmp_path / f"{p.id}.md").write_text(f"# {p.title}\n\n{p.text}\n", encoding="utf-8")
    return found


@pytest.fixture
def ingested(settings: Settings, passages: list[Passage], tmp_path: Path) -> Iterator[Settings]:
    with Zhiku(settings) as zk:
        zk.create_kb(KB, chunk_tokens=128, chunk_overlap=0)
        zk.ingest(KB, [tmp_path])
    yield settings


def _key(hits: list[Hit]) -> list[tuple[int, float]]:
    return [(h.chunk_id, round(h.score, 5)) for h in hits]


def test_ann_hits_equal_exact_hits(ingested: Settings, passages: list[Passage]) -> None:
    with _ann(ingested) as ann, _exact(ingested) as exact:
        for p in passages[:15]:
            for mode in ("vector", "hybrid"):
                got = ann.search(KB, p.title, top_k=10, mode=mode)
                assert got
                assert _key(got) == _key(exact.search(KB, p.title, top_k=10, mode=mode))
    if ingested.database_url is None:  # closing saved the graph beside the database
        assert list((ingested.home / "zhiku.db.ann").glob("*.graph"))


def test_deleted_documents_are_never_returned(
    ingested: Settings, passages: list[Passage]
) -> None:
    with _ann(ingested) as ann, _exact(ingested) as exact:
        query = passages[0].title
        top = ann.search(KB, query, top_k=5, mode="vector")[0]
        ann.delete_document(KB, top.document_id)
        for p in passages[:10]:
            got = ann.search(KB, p.title, top_k=20, mode="vector")
            assert top.document_id not in {h.document_id for h in got}
            assert _key(got) == _key(exact.search(KB, p.title, top_k=20, mode="vector"))


def test_a_restart_gives_the_same_hits(ingested: Settings, passages: list[Passage]) -> None:
    with _ann(ingested) as ann:
        before = [_key(ann.search(KB, p.title, top_k=10, mode="vector")) for p in passages[:10]]
    with _ann(ingested) as ann:
        after = [_key(ann.search(KB, p.title, top_k=10, mode="vector")) for p in passages[:10]]
    assert before == after
