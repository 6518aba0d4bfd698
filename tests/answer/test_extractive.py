"""The extractive answerer: every sentence cited, refusals below the relevance threshold."""

from __future__ import annotations

import re
from pathlib import Path

from zhiku.answer.extractive import ExtractiveAnswerer
from zhiku.answer.types import REFUSAL, Answer
from zhiku.retrieval.types import Hit
from zhiku.service import Zhiku

LEAVE = (
    "New employees get fifteen days of paid annual leave in their first year. "
    "Unused annual leave can be carried over until March. "
    "The office is closed on public holidays."
)
REMOTE = (
    "Staff may work from home two days a week. "
    "New employees work from the office during their first month."
)
CAFETERIA = "The cafeteria serves lunch from noon. Coffee is free for all staff."
REIMBURSE = "员工出差报销需要提交发票原件。审批单由部门经理签字。财务部在五个工作日内完成审核。"


def hit(chunk_id: int, text: str, relevance: float, *, source: str | None = None,
        heading: list[str] | None = None, page: int | None = None) -> Hit:
    return Hit(
        chunk_id=chunk_id, document_id=chunk_id * 10, kb_id=1,
        source=source or f"/docs/doc{chunk_id}.md", title=f"Doc {chunk_id}", text=text,
        matched_text=text, heading_path=heading or [], page=page, score=1.0 / chunk_id,
        relevance=relevance, scores={"keyword": 1.0, "vector": 0.5, "fused": 1.0 / chunk_id},
    )


def cited_sentences(answer: Answer) -> list[tuple[str, int]]:
    """Split the answer into (sentence, citation number) pairs; fail on an uncited piece."""
    pieces = re.findall(r"(.+?)\s?\[(\d+)\]\s*", answer.answer)
    rebuilt = "".join(f"{s}{' ' if not s.endswith('。') else ''}[{n}]" for s, n in pieces)
    assert re.sub(r"\s", "", rebuilt) == re.sub(r"\s", "", answer.answer), answer.answer
    return [(s.strip(), int(n)) for s, n in pieces]


def test_every_sentence_carries_a_citation_that_exists() -> None:
    hits = [hit(1, LEAVE, 0.9, heading=["Handbook", "Leave"], page=3), hit(2, REMOTE, 0.6),
            hit(3, CAFETERIA, 0.1)]
    answer = ExtractiveAnswerer(0.3).answer("How much annual leave do new employees get?", hits)
    assert not answer.refused
    pairs = cited_sentences(answer)
    assert pairs and len(pairs) <= 3
    citations = {c.n: c for c in answer.citations}
    assert sorted(citations) == list(range(1, len(citations) + 1))  # numbered 1..k, no gaps
    by_chunk = {h.chunk_id: h for h in hits}
    for sentence, n in pairs:
        cite = citations[n]
        assert sentence in cite.text and sentence in cite.quote
        source_hit = by_chunk[cite.chunk_id]
        assert (cite.source, cite.document_id, cite.text) == (
            source_hit.source, source_hit.document_id, source_hit.text)
    assert pairs[0] == (
        "New employees get fifteen days of paid annual leave in their first year.", 1)
    first = citations[1]
    assert (first.chunk_id, first.page, first.heading_path) == (1, 3, ["Handbook", "Leave"])
    assert first.location == "p. 3, Handbook > Leave"
    # the low-relevance cafeteria passage is never used as evidence
    assert all(c.chunk_id != 3 for c in answer.citations)
    assert "cafeteria" not in answer.answer.lower()
    assert answer.hits == hits


def test_sentences_from_several_passages_get_their_own_numbers() -> None:
    hits = [hit(1, LEAVE, 0.8), hit(2, REMOTE, 0.7)]
    answer = ExtractiveAnswerer(0.3, max_sentences=4).answer(
        "What do new employees get in their first year and first month?", hits)
    numbers = {n: c.chunk_id for n, c in ((c.n, c) for c in answer.citations)}
    assert numbers == {1: 1, 2: 2}
    used = {n for _, n in cited_sentences(answer)}
    assert used == {1, 2}
    # a passage cited twice keeps one number, with every quoted sentence in its quote
    twice = ExtractiveAnswerer(0.3).answer("annual leave carried over first year", [hit(1, LEAVE,
                                                                                        0.9)])
    assert [c.n for c in twice.citations] == [1]
    assert [n for _, n in cited_sentences(twice)] == [1, 1]
    assert all(s in twice.citations[0].quote for s, _ in cited_sentences(twice))


def test_max_sentences_and_order_follow_the_passages() -> None:
    # each sentence holds another part of the question (repeats of one part are not quoted)
    words = ["leave", "requests", "approval", "deadline"]
    text = " ".join(f"Rule {i} covers {w}." for i, w in enumerate(words))
    answer = ExtractiveAnswerer(0.3, max_sentences=2).answer(" ".join(words), [
        hit(1, text, 0.9)])
    pairs = cited_sentences(answer)
    assert len(pairs) == 2
    positions = [text.index(s) for s, _ in pairs]
    assert positions == sorted(positions)  # quoted in reading order


def test_refuses_below_the_threshold() -> None:
    hits = [hit(1, LEAVE, 0.29), hit(2, REMOTE, 0.1)]
    answer = ExtractiveAnswerer(0.3).answer("How much annual leave do new employees get?", hits)
    assert answer.refused
    assert answer.answer == REFUSAL["en"] == "The knowledge base does not say."
    assert answer.citations == []
    assert answer.hits == hits  # what was considered is still visible
    assert ExtractiveAnswerer(0.25).answer("annual leave?", hits).refused is False


def test_refuses_with_no_hits() -> None:
    answer = ExtractiveAnswerer().answer("Anything?", [])
    assert answer.refused and answer.citations == []


def test_chinese_refusal_for_a_chinese_question() -> None:
    answer = ExtractiveAnswerer(0.3).answer("明天的天气怎么样？", [hit(1, REIMBURSE, 0.05)])
    assert answer.refused
    assert answer.answer == REFUSAL["zh"] == "知识库中没有相关内容。"


def test_chinese_answer_is_cited_and_joined_without_spaces() -> None:
    answer = ExtractiveAnswerer(0.3).answer("出差报销需要提交什么？审批单谁签字？",
                                            [hit(1, REIMBURSE, 0.8)])
    assert not answer.refused
    pairs = cited_sentences(answer)
    assert ("员工出差报销需要提交发票原件。", 1) in pairs
    assert ("审批单由部门经理签字。", 1) in pairs
    assert "。 " not in answer.answer


def test_relevant_by_meaning_only_quotes_the_best_passage() -> None:
    # no shared words, but the vector retriever judged it relevant
    answer = ExtractiveAnswerer(0.3).answer("vacation allowance for recruits",
                                            [hit(1, LEAVE, 0.7)])
    assert not answer.refused
    assert cited_sentences(answer) == [
        ("New employees get fifteen days of paid annual leave in their first year.", 1)]


def test_to_dict_is_the_cli_json_shape() -> None:
    answer = ExtractiveAnswerer(0.3).answer("annual leave", [hit(1, LEAVE, 0.9)])
    data = answer.to_dict()
    assert set(data) == {"answer", "refused", "citations", "grounded", "ungrounded_reason",
                         "ungrounded_action"}
    assert data["grounded"] is True and data["ungrounded_reason"] is None
    assert {"n", "source", "chunk_id", "text", "quote", "location"} <= set(data["citations"][0])
    assert "hits" in answer.to_dict(with_hits=True)


def test_ask_end_to_end(zk: Zhiku, tmp_path: Path) -> None:
    doc = tmp_path / "handbook.md"
    doc.write_text(f"# Handbook\n\n## Leave\n\n{LEAVE}\n\n## Remote\n\n{REMOTE}\n",
                   encoding="utf-8")
    zk.create_kb("hb", embedder="hashing")
    zk.ingest("hb", [doc])
    answer = zk.ask("hb", "How many days of annual leave do new employees get?")
    assert not answer.refused and "fifteen days" in answer.answer
    assert {c.source for c in answer.citations} == {str(doc)}
    assert answer.citations[0].heading_path == ["Handbook", "Leave"]
    for _, n in cited_sentences(answer):
        assert any(c.n == n for c in answer.citations)
    refused = zk.ask("hb", "What is the capital of Mongolia?")
    assert refused.refused and refused.answer == REFUSAL["en"]
    assert zk.ask("hb", "蒙古的首都是哪里？").answer == REFUSAL["zh"]


GRAPH_DOC = (
    "The knowledge graph is optional. Build it with `zhiku graph build` (with no model it uses "
    "the bundled extractor; `zhiku graph build --llm-url URL` uses a model), keeps the graph in "
    "the database and updates it on ingest. Queries in local mode start from entities."
)


def test_fragments_of_unrelated_sentences_are_never_quoted() -> None:
    from zhiku.answer.extractive import is_fragment

    assert is_fragment("uses a model), keeps the graph in the database.")
    assert is_fragment("Build it with `zhiku graph build (with no model it uses the bundled.")
    assert not is_fragment("Queries in local mode start from entities.")
    answer = ExtractiveAnswerer(0.3).answer("Where does zhiku keep the graph?",
                                            [hit(1, GRAPH_DOC, 0.9), hit(2, CAFETERIA, 0.4)])
    for sentence, n in cited_sentences(answer):
        assert n == 1 and sentence in GRAPH_DOC
        assert not is_fragment(sentence), sentence
    assert "cafeteria" not in answer.answer.lower()  # a weak one-word overlap does not ride along


def test_only_sentences_near_the_best_are_quoted() -> None:
    text = ("New employees get fifteen days of paid annual leave. The office has a new coffee "
            "machine. Parking is free.")
    answer = ExtractiveAnswerer(0.3).answer("How many days of annual leave do new employees get?",
                                            [hit(1, text, 0.9)])
    assert cited_sentences(answer) == [
        ("New employees get fifteen days of paid annual leave.", 1)]


FAQ = ("Q: Who approves business travel?\nA: Your line manager approves business travel "
       "before booking.\n\nHow many days of annual leave do new employees get? New employees "
       "get **30 days** of paid annual leave per year.")
TRAVEL = ("The company travel policy applies to all employees. Hotel costs are reimbursed up to "
          "150 euros a night. The company policy requires receipts for every expense.")


def test_an_faq_question_is_not_quoted_and_its_answer_loses_its_label() -> None:
    answer = ExtractiveAnswerer().answer("Who approves business travel?", [hit(1, FAQ, 1.0)])
    assert answer.answer == "Your line manager approves business travel before booking. [1]"
    leave = ExtractiveAnswerer().answer("How many days of annual leave do new employees get?",
                                        [hit(1, FAQ, 1.0)])
    assert "?" not in leave.answer and "30 days" in leave.answer


def test_the_same_fact_from_two_passages_is_quoted_once() -> None:
    same = "New employees get 30 days of paid annual leave per year."
    answer = ExtractiveAnswerer().answer("How many days of annual leave do new employees get?",
                                         [hit(1, FAQ, 1.0), hit(2, same, 1.0)])
    assert answer.answer.count("30 days") == 1 and len(answer.citations) == 1


def test_borderline_evidence_holding_only_generic_words_is_refused() -> None:
    question = "What is the company policy on remote work?"
    off_topic = ExtractiveAnswerer().answer(question, [hit(1, TRAVEL, 0.3)])
    assert off_topic.refused and off_topic.answer == REFUSAL["en"]
    # the same sentences answer when retrieval is sure of them
    assert not ExtractiveAnswerer().answer(question, [hit(1, TRAVEL, 0.8)]).refused
    # and borderline evidence that holds most of the question still answers
    on_topic = ExtractiveAnswerer().answer("Who may work from home two days a week?",
                                           [hit(1, REMOTE, 0.32)])
    assert not on_topic.refused and "two days a week" in on_topic.answer
def test_the_best_passage_always_gives_a_sentence() -> None:
    # Other passages echo more of the question's words and would fill every slot; the best
    # passage is about the question's subject.
    jaspan = "Andrew Jaspan is a British-Australian journalist."
    others = [hit(2, "The Conversation is a not-for-profit media outlet co-founded in 2011. Its "
                     "not-for-profit media outlet model was co-founded by academics.", 1.0),
              hit(3, "14ymedio is a not-for-profit media outlet co-founded in Cuba.", 0.9)]
    question = "Andrew Jaspan was the co-founder of what not-for-profit media outlet?"
    answer = ExtractiveAnswerer(0.3).answer(question, [hit(1, jaspan, 1.0), *others])
    pairs = cited_sentences(answer)
    assert pairs[0] == (jaspan, 1) and len(pairs) == 3
    assert answer.citations[0].chunk_id == 1


def test_every_relevant_hit_of_a_search_is_evidence() -> None:
    # the fourth and fifth hits of a search (top 5) can give the sentence that answers
    filler = [hit(n, f"Item {n} is a cafeteria leaflet about annual menus.", 0.5)
              for n in (1, 2, 3)]
    answer = ExtractiveAnswerer(0.3).answer(
        "How many days of paid annual leave do new employees get?",
        [*filler, hit(4, CAFETERIA, 0.4), hit(5, LEAVE, 0.9)])
    assert "fifteen days" in answer.answer


def test_a_parenthesis_left_open_by_a_typo_is_still_a_sentence() -> None:
    from zhiku.answer.extractive import is_fragment

    assert not is_fragment("Scott Parkin (born 1969, Garland, Texas is an organizer.")
    assert is_fragment("Texas) is an organizer.")  # began inside a parenthesis
    answer = ExtractiveAnswerer(0.3).answer(
        "Who is Scott Parkin?", [hit(1, "Scott Parkin (born 1969, Garland, Texas is an "
                                        "organizer. He lives in Houston.", 0.9)])
    assert "organizer" in answer.answer


def test_a_passage_the_question_names_gives_a_sentence() -> None:
    kirton = hit(4, "Kirton End\nKirton End is a hamlet in the Boston district of Lincolnshire.",
                 1.0, source="/kb/Kirton_End.txt")
    census = [hit(n, f"Village {n}\nAccording to the 2001 census, village {n} had a population "
                     f"of {n}00, and the city census population grew.", 1.0) for n in (1, 2, 3)]
    question = ("According to the 2001 census, what was the population of the city in which "
                "Kirton End is located?")
    answer = ExtractiveAnswerer(0.3).answer(question, [*census, kirton])
    assert "Boston district" in answer.answer
    assert "Boston district" not in ExtractiveAnswerer(0.3, max_hits=3).answer(
        question, [*census, kirton]).answer  # (the fourth hit, once out of the evidence)
    from zhiku.answer.extractive import anchors

    zhao = hit(2, "赵鹏\n赵鹏，中国足球运动员。", 1.0)
    assert anchors("赵鹏的职业是什么？", [census[0], zhao]) == [0, 1]
    assert anchors("Who built Kirton?", [census[0], kirton]) == [0]  # "Kirton End" is not asked
