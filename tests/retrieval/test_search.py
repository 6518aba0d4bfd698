"""Hybrid search on a small real corpus (CMRC 2018 paragraphs, SciFact abstracts) with the
real bundled MiniLM embedder: rankings, retrievers, fusion, filters, top-k and relevance."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from zhiku.core.errors import InvalidInput
from zhiku.retrieval.types import Hit
from zhiku.service import Zhiku

if TYPE_CHECKING:
    from shared_data import Passage

KB = "corpus"
HANDBOOK = """# Employee handbook

## Leave

New employees get fifteen days of paid annual leave in their first year.
Sick leave is paid in full for up to ten days.

## Remote work

Staff may work from home two days a week with their manager's approval.
"""
REIMBURSEMENT = """员工报销制度

员工出差报销需要提交发票原件、审批单和行程单，财务部在五个工作日内完成审核。

餐费补贴标准为每天一百元，住宿费按城市等级报销。
"""


@dataclass
class Corpus:
    zk: Zhiku
    root: Path
    zh: list[Passage]
    en: list[Passage]

    def source(self, *parts: str) -> str:
        return str(self.root.joinpath(*parts).resolve())

    def doc_id(self, *parts: str) -> int:
        return self.zk.document(KB, self.source(*parts)).id


@pytest.fixture(scope="module")
def corpus(
    tmp_path_factory: pytest.TempPathFactory,
    cmrc_passages: list[Passage],
    scifact_passages: list[Passage],
    make_settings: Any,
) -> Iterator[Corpus]:
    root = tmp_path_factory.mktemp("corpus")
    zh = cmrc_passages[:30]
    en = scifact_passages
    (root / "zh").mkdir()
    (root / "en").mkdir()
    (root / "hr").mkdir()
    for p in zh:
        (root / "zh" / f"{p.id}.txt").write_text(p.text, encoding="utf-8")
    for p in en:
        (root / "en" / f"{p.id}.md").write_text(f"# {p.title}\n\n{p.text}\n", encoding="utf-8")
    (root / "hr" / "handbook.md").write_text(HANDBOOK, encoding="utf-8")
    (root / "hr" / "报销制度.txt").write_text(REIMBURSEMENT, encoding="gb18030")
    settings = make_settings(root / "home", embed_max_tokens=128)
    zk = Zhiku(settings)
    zk.create_kb(KB, chunk_tokens=512, chunk_overlap=0)  # one chunk per passage, mostly
    zk.ingest(KB, [root / "zh"], metadata={"tags": ["wiki", "zh"], "lang": "zh"})
    zk.ingest(KB, [root / "en"], metadata={"tags": ["science"], "lang": "en"})
    zk.ingest(KB, [root / "hr"], metadata={"tags": ["hr", "policy"], "lang": "mixed",
                                            "dept": "people"})
    stats = zk.stats(KB)[KB]
    assert stats["documents"] == len(zh) + len(en) + 2 == stats["ready"]
    assert stats["embedded"] == stats["chunks"]
    yield Corpus(zk, root, zh, en)
    zk.close()


def stem(hit: Hit) -> str:
    return Path(hit.source).stem


def recall_at(corpus: Corpus, passages: list[Passage], k: int, **kw: object) -> float:
    found = 0
    for p in passages:
        hits = corpus.zk.search(KB, p.question, top_k=k, **kw)  # type: ignore[arg-type]
        found += any(stem(h) == p.id for h in hits)
    return found / len(passages)


def test_chinese_questions_find_their_paragraph(corpus: Corpus) -> None:
    assert recall_at(corpus, corpus.zh, 1) >= 0.85
    assert recall_at(corpus, corpus.zh, 3) >= 0.95


def test_english_claims_find_their_abstract(corpus: Corpus) -> None:
    assert recall_at(corpus, corpus.en, 1) >= 0.85
    assert recall_at(corpus, corpus.en, 3) >= 0.95


def test_each_retriever_works_alone(corpus: Corpus) -> None:
    assert recall_at(corpus, corpus.en, 3, mode="keyword") >= 0.9
    assert recall_at(corpus, corpus.en, 3, mode="vector") >= 0.9
    assert recall_at(corpus, corpus.zh, 3, mode="keyword") >= 0.9


def test_both_fusions_rank_well(corpus: Corpus) -> None:
    for fusion in ("rrf", "weighted"):
        assert recall_at(corpus, corpus.en, 1, fusion=fusion) >= 0.85, fusion
        assert recall_at(corpus, corpus.zh, 1, fusion=fusion) >= 0.85, fusion
    with pytest.raises(InvalidInput):
        corpus.zk.search(KB, "aspirin", fusion="borda")


def test_vector_search_finds_a_paraphrase(corpus: Corpus) -> None:
    # "read for free ... referenced" vs "Open Access Increases Citation Rate": only generic
    # words (paper, read, often) are shared; the meaning is what the model matches
    query = "Do papers that anyone can read for free get referenced more often?"
    vector = corpus.zk.search(KB, query, top_k=3, mode="vector")
    assert stem(vector[0]) == "27768226"
    hybrid = corpus.zk.search(KB, query, top_k=3)
    assert "27768226" in [stem(h) for h in hybrid]


def test_hits_carry_source_location_text_and_every_retrievers_score(corpus: Corpus) -> None:
    target = next(p for p in corpus.en if p.id == "7975937")  # aspirin / PGE2
    hits = corpus.zk.search(KB, target.question, top_k=5)
    top = hits[0]
    assert top.source == corpus.source("en", "7975937.md")
    assert Path(top.source).is_absolute()
    assert top.title == target.title
    assert top.heading_path == [target.title]
    assert top.location == target.title
    assert top.text in target.text and top.matched_text == top.text
    assert top.metadata["tags"] == ["science"]
    assert top.document_id == corpus.doc_id("en", "7975937.md")
    assert set(top.scores) == {"keyword", "vector", "fused"}
    assert top.scores["keyword"] is not None and top.scores["keyword"] > 0
    assert top.scores["vector"] is not None and 0 < top.scores["vector"] <= 1
    assert top.scores["fused"] == top.score
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert len({h.chunk_id for h in hits}) == len(hits)
    keyword_only = corpus.zk.search(KB, target.question, top_k=3, mode="keyword")
    assert keyword_only[0].score == keyword_only[0].scores["keyword"]
    vector_only = corpus.zk.search(KB, target.question, top_k=3, mode="vector")
    assert vector_only[0].score == vector_only[0].scores["vector"]


def test_chinese_hit_from_a_gb18030_file(corpus: Corpus) -> None:
    hits = corpus.zk.search(KB, "报销流程需要哪些材料", top_k=3)
    assert hits[0].source == corpus.source("hr", "报销制度.txt")
    assert "发票原件" in hits[0].text
    assert hits[0].scores["keyword"] is not None


def test_english_question_on_the_handbook(corpus: Corpus) -> None:
    hits = corpus.zk.search(KB, "How many days of leave do new employees get?", top_k=3)
    assert hits[0].source == corpus.source("hr", "handbook.md")
    assert "fifteen days" in hits[0].text
    assert hits[0].heading_path == ["Employee handbook", "Leave"]
    assert hits[0].location == "Employee handbook > Leave"


def test_top_k(corpus: Corpus) -> None:
    query = "stem cells"
    for k in (1, 3, 7):
        hits = corpus.zk.search(KB, query, top_k=k)
        assert len(hits) == k
    many = corpus.zk.search(KB, query, top_k=7)
    assert [h.chunk_id for h in corpus.zk.search(KB, query, top_k=3)] == [
        h.chunk_id for h in many[:3]
    ]


def test_min_relevance_drops_unrelated_hits(corpus: Corpus) -> None:
    unrelated = "What is the best recipe for chocolate cake?"
    assert corpus.zk.search(KB, unrelated, top_k=5)  # something always comes back...
    assert corpus.zk.search(KB, unrelated, top_k=5, min_relevance=0.3) == []  # ...unless gated
    related = corpus.zk.search(KB, "How many days of leave do new employees get?", top_k=5,
                               min_relevance=0.3)
    assert related and all(h.relevance >= 0.3 for h in related)
    assert related[0].source == corpus.source("hr", "handbook.md")
    chinese_unrelated = corpus.zk.search(KB, "今天股市行情怎么样", top_k=5, min_relevance=0.5)
    assert all(h.relevance >= 0.5 for h in chinese_unrelated)


def test_filter_by_document_ids_and_sources(corpus: Corpus) -> None:
    question = "How many days of leave do new employees get?"
    chosen = [corpus.doc_id("en", f"{corpus.en[0].id}.md"), corpus.doc_id("zh", "DEV_1.txt")]
    hits = corpus.zk.search(KB, question, top_k=10, filters={"document_ids": chosen})
    assert hits and {h.document_id for h in hits} <= set(chosen)
    handbook = corpus.source("hr", "handbook.md")
    hits = corpus.zk.search(KB, "stem cells", top_k=5, filters={"sources": [handbook]})
    assert [h.source for h in hits] == [handbook] * len(hits) and hits


def test_filter_by_tags_metadata_and_formats(corpus: Corpus) -> None:
    for mode in ("hybrid", "keyword", "vector"):
        hits = corpus.zk.search(KB, "stem cells and leave policy", top_k=10, mode=mode,
                                filters={"tags": ["science"]})
        assert len(hits) == 10, mode
        assert all(h.metadata["tags"] == ["science"] for h in hits), mode
        hits = corpus.zk.search(KB, "stem cells and leave policy", top_k=10, mode=mode,
                                filters={"tags": ["policy", "nothing"]})
        assert {stem(h) for h in hits} <= {"handbook", "报销制度"} and hits, mode
    question = "报销需要发票"
    hits = corpus.zk.search(KB, question, top_k=10, filters={"metadata": {"lang": "zh"}})
    assert hits and all(Path(h.source).parent.name == "zh" for h in hits)
    hits = corpus.zk.search(KB, question, top_k=10,
                            filters={"metadata": {"dept": "people"}, "formats": ["txt"]})
    assert [stem(h) for h in hits] == ["报销制度"]
    hits = corpus.zk.search(KB, "leave", top_k=50, filters={"formats": ["md"]})
    assert hits and all(h.source.endswith(".md") for h in hits)
    assert corpus.zk.search(KB, "leave", filters={"tags": ["nonexistent"]}) == []
    with pytest.raises(ValueError, match=r"colour"):
        corpus.zk.search(KB, "leave", filters={"colour": "red"})


def test_filter_by_dates(corpus: Corpus) -> None:
    now = datetime.now(UTC)
    q = "annual leave"
    assert corpus.zk.search(KB, q, filters={"created_after": now - timedelta(days=1)})
    assert corpus.zk.search(KB, q, filters={"created_after": now + timedelta(days=1)}) == []
    assert corpus.zk.search(KB, q, filters={"created_before": now - timedelta(days=1)}) == []
    assert corpus.zk.search(KB, q, filters={"created_before": (now + timedelta(days=1))
                                            .isoformat()})


def test_empty_query_is_refused(corpus: Corpus) -> None:
    with pytest.raises(InvalidInput):
        corpus.zk.search(KB, "   ")
