"""Traditional and Simplified Chinese find each other: in search, in relevance, in answers."""

from __future__ import annotations

import pytest

from zhiku.ingest.pipeline import SourceItem
from zhiku.service import Zhiku
from zhiku.text.indexing import index_text
from zhiku.text.tokenize import (
    _terms,
    analyze,
    fold_script,
    needs_reanalysis,
    normalize,
    query_terms,
    script_variants,
)

TRADITIONAL = "員工手冊\n\n新員工入職滿一年後享有五天帶薪年假，每多工作一年增加一天。\n"
SIMPLIFIED = "差旅制度\n\n出差报销需要提交发票原件和审批单，财务部在五个工作日内完成审核。\n"
OTHER = "食堂安排\n\n食堂中午十二点开始供应午餐，咖啡免费。\n"


def test_folding_and_variants() -> None:
    assert fold_script("新員工入職滿一年後") == "新员工入职满一年后"
    assert fold_script("plain ascii 123") == "plain ascii 123"
    assert "出差報銷需要什麼材料" in script_variants("出差报销需要什么材料")
    assert "新员工有几天年假" in script_variants("新員工有幾天年假")
    assert script_variants("annual leave") == ()
    terms = query_terms("报销")
    assert "报销" in terms and "報銷" in terms


@pytest.mark.parametrize(
    ("question", "source"),
    [("新员工有几天年假？", "handbook.txt"),      # Simplified question, Traditional document
     ("出差報銷需要什麼材料？", "travel.txt")],     # Traditional question, Simplified document
)
def test_one_script_finds_the_other(zk: Zhiku, question: str, source: str) -> None:
    zk.create_kb("mixed", embedder="hashing")
    zk.ingest_items("mixed", [SourceItem("handbook.txt", data=TRADITIONAL.encode()),
                              SourceItem("travel.txt", data=SIMPLIFIED.encode()),
                              SourceItem("canteen.txt", data=OTHER.encode())])
    for mode in ("keyword", "hybrid"):
        assert zk.search("mixed", question, mode=mode)[0].source == source
    answer = zk.ask("mixed", question)
    assert not answer.refused, answer.answer
    assert answer.citations[0].source == source


def test_the_index_holds_folded_terms() -> None:
    # Traditional text is indexed under the terms of its Simplified form (jieba segments it
    # with its Simplified dictionary), so either script's query meets the same terms.
    traditional = "新員工入職滿一年後享有五天帶薪年假"
    simplified = "新员工入职满一年后享有五天带薪年假"
    assert analyze(traditional) == analyze(simplified)
    assert "员工" in analyze("員工手冊") and "員工" not in analyze("員工手冊")
    assert analyze("Traditional 報銷 receipts") == ["tradit", "报销", "报销", "receipt"]
    assert needs_reanalysis("報銷") and not needs_reanalysis("报销 receipts")


@pytest.mark.parametrize(
    ("question", "source"),
    [("新员工有几天年假？", "handbook.txt"), ("出差報銷需要什麼材料？", "travel.txt")],
)
def test_folded_query_terms_alone_find_the_other_script(
    zk: Zhiku, question: str, source: str
) -> None:
    # Only the analyzer's own (folded) terms: no help from the query's other script.
    zk.create_kb("mixed", embedder="hashing")
    zk.ingest_items("mixed", [SourceItem("handbook.txt", data=TRADITIONAL.encode()),
                              SourceItem("travel.txt", data=SIMPLIFIED.encode()),
                              SourceItem("canteen.txt", data=OTHER.encode())])
    kb = zk.kb("mixed")
    top = zk.store.keyword_search([kb.id], analyze(question), 3, None)[0][0]
    assert zk.store.get_document(zk.store.get_chunks([top])[top].document_id).source == source


def test_reanalyze_rewrites_an_index_written_before_folding(zk: Zhiku) -> None:
    zk.create_kb("old", embedder="hashing")
    zk.ingest_items("old", [SourceItem("handbook.txt", data=TRADITIONAL.encode()),
                            SourceItem("travel.txt", data=SIMPLIFIED.encode()),
                            SourceItem("canteen.txt", data=OTHER.encode())])
    kb = zk.kb("old")
    chunks = [c for d in zk.store.list_documents(kb.id) for c in zk.store.list_chunks(d.id)]
    texts = {c.id: index_text(c.heading_path, c.text) for c in chunks}
    traditional = [cid for cid, text in texts.items() if needs_reanalysis(text)]
    assert traditional
    # The index as the analyzer before folding wrote it: Traditional terms as written.
    zk.store.set_chunk_terms({cid: list(_terms(normalize(texts[cid]))) for cid in traditional})
    assert zk.store.term_stats(["員工"])[0].get("員工") == len(traditional)
    assert not zk.store.keyword_search([kb.id], ["员工"], 5, None)
    # Until it is re-analyzed, a query's unfolded terms still find it, in either script.
    for question in ("新员工有几天年假？", "新員工有幾天年假？"):
        assert zk.search("old", question, mode="keyword")[0].source == "handbook.txt"

    assert zk.reanalyze("old") == len(traditional)
    assert zk.reanalyze("old") == len(traditional)  # idempotent: the same terms again
    held = zk.store.chunk_terms(traditional)
    assert all(held[cid] == analyze(texts[cid]) for cid in traditional)
    df, _ = zk.store.term_stats(["員工", "员工"])
    assert df.get("員工", 0) == 0 and df["员工"] == len(traditional)
    top = zk.store.keyword_search([kb.id], analyze("新員工有幾天年假"), 3, None)[0][0]
    assert top in traditional
    for mode in ("keyword", "hybrid"):
        assert zk.search("old", "新员工有几天年假？", mode=mode)[0].source == "handbook.txt"


def test_folding_covers_every_character_of_the_table() -> None:
    from zhiku.text.tokenize import _t2s_table

    table = _t2s_table()
    assert any(code > 0xFFFF for code in table)  # characters beyond the BMP fold too
    assert fold_script("".join(map(chr, table))) == "".join(table.values())
    assert fold_script("plain 𠀀 text, café") == "plain 𠀀 text, café"
