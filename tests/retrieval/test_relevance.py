"""The relevance signal: question words weigh nothing, names and content words do, unseen
terms are not the heaviest, and each embedding model's cosine is read on its own scale."""

from __future__ import annotations

import pytest

from zhiku.ingest.pipeline import SourceItem
from zhiku.retrieval.relevance import (
    ANSWER_POINT,
    Unit,
    calibrated_coverage,
    calibrated_dense,
    content_units,
    unit_weights,
)
from zhiku.service import Zhiku

HANDBOOK = (
    "# 员工手册\n\n## 年假\n\n新员工入职满一年后享有五天带薪年假，每多工作一年增加一天。\n\n"
    "## 报销\n\n出差报销需要提交发票原件和审批单，财务部在五个工作日内完成审核。\n"
)


def terms(query: str) -> list[str]:
    return [u.term for u in content_units(query)]


def test_question_and_function_words_are_not_content() -> None:
    assert terms("新员工有几天年假？") == ["员工", "年假"]
    for question_word in ("几天", "什么", "多少", "哪些", "怎么", "吗", "有几"):
        assert all(question_word not in t for t in terms(f"报销{question_word}发票"))
    assert terms("How many days of annual leave do new employees get?") == [
        "day", "annual", "leav", "new", "employe", "get"]
    assert terms("What is the name of the company?") == ["compani"]


def test_bigrams_only_inside_a_word_or_name() -> None:
    units = content_units("范廷颂是什么时候被任为主教的？")
    name = next(u for u in units if u.term == "范廷颂")
    assert name.parts == ("范廷", "廷颂")
    assert all("是什" not in u.parts and "颂是" not in u.parts for u in units)
    assert name.match({"范廷", "廷颂"}) == 1.0 and name.match({"范廷"}) == 0.5


def test_unseen_units_do_not_get_the_top_weight() -> None:
    seen, unseen = Unit("年假"), Unit("股票代码")
    weights = unit_weights([seen, unseen], {"年假": 1}, 100)
    assert weights[unseen] == weights[seen]  # as rare as a term one chunk holds, not rarer


def test_each_model_cosine_on_its_own_scale() -> None:
    assert calibrated_dense(0.3, "all-MiniLM-L6-v2-int8") < ANSWER_POINT
    assert calibrated_dense(0.8, "all-MiniLM-L6-v2-int8") > ANSWER_POINT
    assert calibrated_dense(None, "all-MiniLM-L6-v2-int8") == 0.0
    assert calibrated_dense(0.6, "openai:some-model") < ANSWER_POINT  # unknown: conservative
    assert calibrated_coverage(0.0) == 0.0 and calibrated_coverage(1.0) == 1.0
    assert calibrated_coverage(0.25) < ANSWER_POINT < calibrated_coverage(0.75)


@pytest.mark.parametrize(
    ("question", "answered"),
    [("新员工有几天年假？", True), ("新员工的年假有多少天？", True),
     ("出差报销需要什么材料？", True), ("公司的股票代码是多少？", False),
     ("食堂几点开门？", False)],
)
def test_chinese_handbook_answers_and_refuses(zk: Zhiku, question: str, answered: bool) -> None:
    zk.create_kb("hb", embedder="hashing")
    zk.ingest_items("hb", [SourceItem("handbook.md", data=HANDBOOK.encode())])
    answer = zk.ask("hb", question)
    assert answer.refused is not answered, (question, answer.answer)
    if answered:
        assert answer.citations and answer.citations[0].source == "handbook.md"


def test_two_passages_that_answer_together_are_both_relevant() -> None:
    from zhiku.retrieval.relevance import pair_relevance

    weights = [1.0, 1.0, 1.0, 1.0]
    first, second, echo = (1, 1, 0, 0), (0, 0, 1, 1), (0, 0, 0, 1)
    both, _, alone = pair_relevance([first, second, echo], weights)
    assert both >= 1.0 - 1e-9  # together they hold the whole question
    assert alone >= ANSWER_POINT  # with the first it holds 3/4: above JOINT_POINT
    assert pair_relevance([first, (0, 0, 0, 0)], weights) == [0.0, 0.0]  # no partner
