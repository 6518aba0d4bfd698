"""The conversation log over the Python API: filters, paging, turns, corrections that are
searchable at once, refused questions grouped, eval sets from logged turns."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from logsdata import ANSWERED, REFUSED, seed

from zhiku.core.errors import InvalidInput, NotFound
from zhiku.core.settings import Settings
from zhiku.evals import sets
from zhiku.logs.query import LogFilter
from zhiku.service import Zhiku


@pytest.fixture
def zk(zhiku_home: Path) -> Iterator[Zhiku]:
    with Zhiku(Settings(home=zhiku_home, embedder="hashing")) as z:
        yield z


@pytest.fixture
def ids(zk: Zhiku) -> dict[str, int]:
    return seed(zk)


def _ids(zk: Zhiku, **flt: object) -> list[int]:
    total, rows = zk.conversation_log(LogFilter(**flt))  # type: ignore[arg-type]
    assert total == len(rows)
    return [r.id for r in rows]


def test_log_lists_every_channel_newest_first(zk: Zhiku, ids: dict[str, int]) -> None:
    total, rows = zk.conversation_log()
    assert total == 3
    assert [r.id for r in rows] == [ids["conv_local"], ids["conv_openai"], ids["conv_answered"]]
    by_id = {r.id: r for r in rows}
    assert by_id[ids["conv_answered"]].channel == "chat"
    assert by_id[ids["conv_openai"]].channel == "openai"
    assert by_id[ids["conv_local"]].channel == "local"
    assert by_id[ids["conv_openai"]].refused == 1 and by_id[ids["conv_answered"]].refused == 0
    assert by_id[ids["conv_answered"]].first_question == ANSWERED


def test_log_filters(zk: Zhiku, ids: dict[str, int]) -> None:
    assert _ids(zk, channel="openai") == [ids["conv_openai"]]
    assert _ids(zk, channel="local") == [ids["conv_local"]]
    assert _ids(zk, channel="widget") == []
    assert set(_ids(zk, refused=True)) == {ids["conv_openai"], ids["conv_local"]}
    assert _ids(zk, text="年假") == [ids["conv_answered"]]
    assert _ids(zk, text="%") == []  # a wildcard is text, not a pattern
    assert _ids(zk, no_citation=True) == []
    assert _ids(zk, thumbs_down=True) == []
    zk.rate_reply(ids["answered"], "down")
    assert _ids(zk, thumbs_down=True) == [ids["conv_answered"]]
    assert _ids(zk, since="2999-01-01") == []
    assert len(_ids(zk, until="2999-01-01")) == 3
    assert len(_ids(zk, assistant_id=zk.get_assistant("hr").id)) == 3
    assert _ids(zk, assistant_ids=[]) == []
    with pytest.raises(InvalidInput):
        zk.conversation_log(LogFilter(channel="Bad Channel'"))


def test_log_pages(zk: Zhiku, ids: dict[str, int]) -> None:
    total, first = zk.conversation_log(limit=2)
    total2, rest = zk.conversation_log(offset=2, limit=2)
    assert total == total2 == 3 and len(first) == 2 and len(rest) == 1
    assert {r.id for r in first} | {r.id for r in rest} == {
        ids["conv_answered"], ids["conv_openai"], ids["conv_local"]}
    with pytest.raises(InvalidInput):
        zk.conversation_log(limit=0)


def test_turns_carry_citations_and_feedback(zk: Zhiku, ids: dict[str, int]) -> None:
    zk.rate_reply(ids["answered"], "up", comment="good")
    [turn] = zk.conversation_turns(ids["conv_answered"])
    assert turn.question == ANSWERED and turn.message_id == ids["answered"]
    assert turn.citations and turn.citations[0]["source"] == "leave.md"
    assert turn.rating == 1 and turn.comment == "good" and turn.channel == "chat"
    with pytest.raises(NotFound):
        zk.conversation_turns(99999)


def test_correction_is_searchable_at_once(zk: Zhiku, ids: dict[str, int]) -> None:
    fixed = "公司支持每周两天远程办公，需主管批准。"
    made = zk.correct_reply(ids["refused_openai"], fixed, kb="hr", eval_set="fixes")
    assert made.question == REFUSED
    assert made.source == f"corrections/message-{ids['refused_openai']}.csv"
    hits = zk.search("hr", "远程办公政策", top_k=3)
    assert hits and "两天远程办公" in hits[0].text and hits[0].source == made.source
    doc = zk.document("hr", made.source)
    assert doc.metadata["source_message"] == ids["refused_openai"]
    [q] = sets.questions(zk.evals, "fixes")
    assert q.question == REFUSED and q.reference_answers == [fixed]
    # correcting again replaces the document and the eval question, never duplicates them
    zk.correct_reply(ids["refused_openai"], fixed + "详见手册。", kb="hr", eval_set="fixes")
    assert len([d for d in zk.documents("hr") if d.source == made.source]) == 1
    assert len(sets.questions(zk.evals, "fixes")) == 1
    [turn] = zk.conversation_turns(ids["conv_openai"])
    assert turn.corrected_answer == fixed + "详见手册。" and turn.rating == -1
    # the assistant now answers the question it refused
    again = zk.chat("hr", REFUSED)
    assert not again.answer.refused and "远程办公" in again.answer.answer


def test_correction_checks(zk: Zhiku, ids: dict[str, int]) -> None:
    with pytest.raises(InvalidInput):
        zk.correct_reply(ids["answered"], "x")  # neither a kb nor an eval set
    with pytest.raises(InvalidInput):
        zk.correct_reply(ids["answered"], "  ", kb="hr")
    with pytest.raises(NotFound):
        zk.correct_reply(ids["answered"], "x", kb="nope")
    with pytest.raises(NotFound):
        zk.correct_reply(ids["answered"] - 1, "x", kb="hr")  # a question, not a reply


def test_unanswered_grouped(zk: Zhiku, ids: dict[str, int]) -> None:
    groups = zk.unanswered_questions()
    assert len(groups) == 1
    assert groups[0].count == 2 and groups[0].question.strip() == REFUSED
    assert zk.unanswered_questions(assistant_ids=[]) == []


def test_eval_set_from_log(zk: Zhiku, ids: dict[str, int]) -> None:
    made = zk.eval_set_from_log("from-log", [ids["answered"], ids["refused_openai"]])
    assert made.size == 2 and made.origin == "logs"
    answered, refused = sets.questions(zk.evals, "from-log")
    assert answered.expected_sources == {"leave.md": 1} and answered.answerable
    assert "5 天" in answered.reference_answers[0]
    assert not refused.answerable and refused.reference_answers == []
    with pytest.raises(InvalidInput):
        zk.eval_set_from_log("empty", [])


def test_near_duplicate_refusals_group_together(zk: Zhiku, ids: dict[str, int]) -> None:
    zk.chat("hr", "公司有远程办公政策吗")
    zk.chat("hr", "食堂几点开门？")
    groups = zk.unanswered_questions()
    assert [g.count for g in groups] == [3, 1]
    assert groups[0].variants == ["公司有远程办公政策吗"]
    assert groups[1].question == "食堂几点开门？" and groups[1].variants == []


def test_a_link_conversation_is_its_channel_whatever_face_its_turns_came_through(
        zk: Zhiku, ids: dict[str, int]) -> None:
    """A share link's or widget's conversation is that channel by its own row: the listing
    shows it and the filter selects it by the same view, even when a turn came through
    another face (an admin continuing it over the chat route, the Python API)."""
    from zhiku.chat.store import Owner

    first = zk.chat("hr", ANSWERED, owner=Owner(channel="widget", visitor="v-1"))
    conv = first.conversation_id
    assert conv is not None
    zk.chat("hr", REFUSED, conv, endpoint="chat")
    total, rows = zk.conversation_log(LogFilter(channel="widget"))
    assert total == 1 and [r.id for r in rows] == [conv]
    assert rows[0].channel == "widget" and rows[0].channels == ["local", "chat"]
    assert zk.conversation_info(conv)["channel"] == "widget"
    assert conv in _ids(zk, channel="chat")  # a turn's own face still finds it
    assert _ids(zk, channel="share") == []
    listed = {r.id: r.channel for r in zk.conversation_log()[1]}
    assert listed[conv] == "widget" and listed[ids["conv_openai"]] == "openai"
