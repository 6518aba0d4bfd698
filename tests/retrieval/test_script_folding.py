"""Traditional and Simplified Chinese find each other: in search, in relevance, in answers."""

from __future__ import annotations

import pytest

from zhiku.ingest.pipeline import SourceItem
from zhiku.service import Zhiku
from zhiku.text.tokenize import fold_script, query_terms, script_variants

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
