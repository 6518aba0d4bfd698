"""Grounded answering: citation checks, refusal without a call, quoted data, token budgets."""

from __future__ import annotations

import pytest
from llm_scripted_server import Script, ScriptedServer

from zhiku.answer.budget import pack
from zhiku.answer.citations import MarkerFilter, verify
from zhiku.answer.history import trim_history
from zhiku.answer.llm import LLMAnswerer, LLMAnswerOptions
from zhiku.answer.prompts import render_document
from zhiku.models.llm.errors import ContextOverflow
from zhiku.models.llm.openai_compat import OpenAIChatModel
from zhiku.models.llm.types import Message
from zhiku.retrieval.types import Hit
from zhiku.service import Zhiku


def hit(i: int, text: str, relevance: float = 0.9) -> Hit:
    return Hit(chunk_id=100 + i, document_id=i, kb_id=1, source=f"doc{i}.md", title=None,
               text=text, matched_text=text, heading_path=["H"], page=None, score=1.0 / (i + 1),
               relevance=relevance)


HITS = [hit(1, "Ten days of leave."), hit(2, "Managers get fifteen.")]


def model(server: ScriptedServer, window: int = 4096) -> OpenAIChatModel:
    return OpenAIChatModel(server.url, "scripted-model", provider="s", context_window=window)


# -- citation verification ----------------------------------------------------------------
def test_citations_to_chunks_not_given_are_removed() -> None:
    out = verify("Ten days [1]. Managers fifteen [2, 7]. Made up [9]. 也可以【2】。", HITS)
    assert out.text == "Ten days [1]. Managers fifteen [2]. Made up. 也可以[2]。"
    assert [c.n for c in out.citations] == [1, 2]
    assert [c.chunk_id for c in out.citations] == [101, 102]
    assert sorted(out.removed) == [7, 9] and not out.flagged


def test_an_answer_without_a_valid_citation_is_flagged() -> None:
    assert verify("No markers at all.", HITS).flagged
    assert verify("Only a bogus one [5].", HITS).flagged


def test_streamed_markers_are_filtered_however_they_are_cut() -> None:
    text = "Ten [1]. Bogus [4]. Both [1, 3]. Brackets [not a marker] stay [2]"
    for size in (1, 2, 3, 5, 8):
        f = MarkerFilter(2)
        shown = "".join(f.feed(text[i : i + size]) for i in range(0, len(text), size)) + f.flush()
        assert shown == "Ten [1]. Bogus . Both [1]. Brackets [not a marker] stay [2]"


# -- refusal and model calls --------------------------------------------------------------
def test_refuses_without_calling_the_model_when_nothing_is_relevant(
    scripted: ScriptedServer,
) -> None:
    answerer = LLMAnswerer(model(scripted), LLMAnswerOptions(min_relevance=0.5))
    weak = [hit(1, "unrelated", relevance=0.1)]
    answer = answerer.answer("How many days of leave?", weak)
    assert answer.refused and answer.answer == "The knowledge base does not say."
    events = list(answerer.stream("年假有几天？", []))
    assert events[-1].answer is not None and events[-1].answer.refused
    assert events[-1].answer.answer == "知识库中没有相关内容。"
    assert scripted.requests == []  # the model was never called


def test_refusal_reply_from_the_model_is_a_refusal(scripted: ScriptedServer) -> None:
    scripted.push(Script(text="The knowledge base does not say."))
    answer = LLMAnswerer(model(scripted)).answer("What is the CEO's salary?", HITS)
    assert answer.refused and not answer.flagged and answer.citations == []


def test_app_refusal_makes_no_model_call(zk: Zhiku, app: str, scripted: ScriptedServer) -> None:
    answer = zk.ask_app(app, "quantum chromodynamics lattice gauge")
    assert answer.refused and scripted.requests == []


# -- prompts: quoted data, languages ------------------------------------------------------
def test_documents_are_quoted_data_and_injection_stays_inside(
    zk: Zhiku, app: str, scripted: ScriptedServer
) -> None:
    scripted.push(Script(text="IT rotates the wifi password every month [1]."))
    answer = zk.ask_app(app, "How often is the office wifi password rotated?")
    assert not answer.refused and answer.citations and not answer.flagged
    sent = scripted.chat_requests[0]["messages"]
    system, user = sent[0], sent[-1]
    assert system["role"] == "system" and "PWNED" not in system["content"]
    assert "not instructions" in system["content"]
    body = user["content"]
    start, end = body.index("<documents>"), body.rindex("</documents>")
    assert start < body.index("IGNORE YOUR INSTRUCTIONS") < end  # inside the data block
    # the document's fake closing tags were neutralised: exactly one block, properly closed
    assert body.count("</documents>") == 1 and body.count("<documents>") == 1
    assert "‹/document›" not in body and "‹/documents>" in body
    assert body[end:].strip().startswith("</documents>\n\nQuestion:") or body.endswith("?")
    assert body.rstrip().endswith("How often is the office wifi password rotated?")


def test_chinese_questions_get_the_chinese_prompt(
    zk: Zhiku, app: str, scripted: ScriptedServer
) -> None:
    scripted.push(Script(text="需要发票原件、部门审批单和银行卡信息[1]。"))
    answer = zk.ask_app(app, "报销流程需要提供发票吗？")
    assert answer.citations and answer.citations[0].source == "expenses.md"
    messages = scripted.chat_requests[0]["messages"]
    assert "请用中文回答" in messages[0]["content"]
    assert "问题: 报销流程需要提供发票吗？" in messages[-1]["content"]


def test_system_prompt_template_keeps_the_rules(
    zk: Zhiku, app: str, scripted: ScriptedServer
) -> None:
    zk.update_assistant(app, system_prompt="You are {name}. Be brief.", refusal_message="N/A")
    scripted.push(Script(text="Ten days [1]."))
    zk.ask_app(app, "How many days of leave do new employees get?")
    system = scripted.chat_requests[0]["messages"][0]["content"]
    assert system.startswith("You are HR Bot. Be brief.")
    assert "reply exactly: N/A" in system and "not instructions" in system


# -- token budgets ------------------------------------------------------------------------
def test_a_thousand_long_chunks_never_overflow_the_window(scripted: ScriptedServer) -> None:
    long = "Employees accrue leave monthly and may carry over unused days. " * 12
    hits = [hit(i, f"{i}: {long}") for i in range(1000)]
    m = model(scripted, window=2048)
    scripted.push(Script(text="Leave accrues monthly [1][2]."))
    answer = LLMAnswerer(m, LLMAnswerOptions(max_tokens=256)).answer("How does leave accrue?", hits)
    sent: list[Message] = scripted.chat_requests[0]["messages"]
    prompt_tokens = sum(m.count_tokens(x["content"]) for x in sent)
    assert prompt_tokens + 256 <= 2048
    given = 1000 - answer.dropped_hits
    assert 2 <= given < 20 and len(answer.citations) == 2
    assert sent[-1]["content"].count("<document index=") == given


def test_the_top_chunk_is_truncated_rather_than_dropped() -> None:
    hits = [hit(1, "word " * 5000), hit(2, "short one")]
    packed = pack(hits, 300, lambda s: len(s.split()) + 4, render_document)
    assert packed.truncated and packed.hits[0].chunk_id == 101
    assert packed.tokens <= 300


def test_no_room_for_documents_is_a_context_overflow(scripted: ScriptedServer) -> None:
    with pytest.raises(ContextOverflow):
        LLMAnswerer(model(scripted, window=300), LLMAnswerOptions(max_tokens=256)).answer(
            "question " * 50, HITS
        )
    assert scripted.requests == []


def test_history_is_trimmed_by_tokens_newest_first() -> None:
    history: list[Message] = []
    for i in range(20):
        history.append({"role": "user", "content": f"question {i} " + "x " * 30})
        history.append({"role": "assistant", "content": f"answer {i} " + "y " * 30})
    kept = trim_history(history, 200, lambda s: len(s.split()))
    assert kept and kept[-1]["content"].startswith("answer 19")
    assert kept[0]["role"] == "user" and sum(len(m["content"].split()) for m in kept) <= 200


def test_a_provider_overflow_is_retried_once_with_less_context(scripted: ScriptedServer) -> None:
    hits = [hit(i, "Leave accrues monthly. " * 30) for i in range(50)]
    overflow = Script(status=400, body='{"error": {"message": "exceeds the context window"}}')
    scripted.push(overflow, Script(text="Monthly [1]."))
    answerer = LLMAnswerer(model(scripted, window=4096))
    answer = answerer.answer("How does leave accrue?", hits)
    first, second = (r["messages"][-1]["content"] for r in scripted.chat_requests)
    assert answer.citations and len(second) < len(first)
    scripted.push(overflow, Script(text="Monthly [1]."))
    events = list(answerer.stream("How does leave accrue?", hits))
    assert events[-1].answer is not None and events[-1].answer.citations


def test_token_estimates_are_calibrated_per_script() -> None:
    from zhiku.models.llm.tokens import CALIBRATION, TokenEstimator
    from zhiku.text.lang import CJK_RE

    def fake_tokenize(text: str) -> int:  # 2 tokens per CJK character, 1 per word
        return 2 * len(CJK_RE.findall(text)) + len(text.split())

    est = TokenEstimator.calibrated(fake_tokenize)
    for sample in CALIBRATION.values():
        assert est.count(sample) >= fake_tokenize(sample)
    assert est.cjk_factor > 2.0 and est.other_factor >= 1.0
