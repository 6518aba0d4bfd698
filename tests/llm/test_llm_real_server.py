"""Against a genuine model: SmolLM2-135M behind ``python -m llama_cpp.server`` on 127.0.0.1.

Assertions are on structure (citations point at given chunks, streams stream, accounting is
recorded, the window is respected), never on wording.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from llm_support import needs_llama

from zhiku.answer.grounded import GroundedAnswer
from zhiku.answer.llm import LLMAnswerer, LLMAnswerOptions
from zhiku.answer.rewrite import rewrite_question
from zhiku.chat.engine import ChatStream
from zhiku.models.llm.errors import ContextOverflow
from zhiku.models.llm.openai_compat import OpenAIChatModel
from zhiku.retrieval.types import Hit
from zhiku.service import Zhiku

pytestmark = [needs_llama, pytest.mark.slow]


@pytest.fixture
def real_app(zk: Zhiku, llama_server: str) -> str:
    zk.add_provider("llamacpp", preset="llamacpp", base_url=llama_server, models=["smollm2"],
                    context_window=2048, price_input=0.5, price_output=1.0,
                    tokenize_path="/extras/tokenize")
    zk.create_assistant("Local Bot", knowledge_bases=["hr"], model="llamacpp/smollm2",
                        max_tokens=48, temperature=0.0)
    return "local-bot"


def assert_well_formed(answer: GroundedAnswer) -> None:
    given = {h.chunk_id for h in answer.hits}
    assert isinstance(answer.answer, str) and answer.answer.strip()
    assert all(c.chunk_id in given for c in answer.citations)
    assert answer.flagged == (not answer.citations and not answer.refused)
    numbers = {c.n for c in answer.citations}
    for n in range(1, 50):  # every marker left in the text is a valid citation
        if f"[{n}]" in answer.answer:
            assert n in numbers


def test_models_test_against_the_real_server(zk: Zhiku, real_app: str) -> None:
    result = zk.test_provider("llamacpp")
    assert result["ok"] is True, result
    assert float(str(result["latency_ms"])) > 0 and int(str(result["input_tokens"])) > 0


def test_grounded_answer_from_a_real_model(zk: Zhiku, real_app: str) -> None:
    answer = zk.ask_app(real_app, "How many days of paid annual leave do new employees get?")
    assert not answer.refused
    assert_well_formed(answer)
    calls = zk.model_calls()
    assert calls[-1]["ok"] == 1 and calls[-1]["purpose"] == "answer"
    assert calls[-1]["input_tokens"] == answer.usage.input_tokens > 0
    # llama-cpp-python does not report usage in streams: then the counts are estimates, flagged
    assert calls[-1]["tokens_estimated"] == int(answer.usage.estimated)
    assert calls[-1]["cost"] == pytest.approx(
        (answer.usage.input_tokens * 0.5 + answer.usage.output_tokens * 1.0) / 1e6)


def test_streaming_chat_with_a_real_model(zk: Zhiku, real_app: str) -> None:
    stream = zk.chat(real_app, "How many days of leave do new employees get?", stream=True)
    assert isinstance(stream, ChatStream)
    events = list(stream)
    tokens = [e for e in events if e.kind == "token"]
    final = events[-1].answer
    assert len(tokens) >= 3 and final is not None
    assert_well_formed(final)
    assert stream.conversation_id is not None
    stored = zk.conversation(stream.conversation_id)
    assert [m.role for m in stored] == ["user", "assistant"]
    assert stored[1].content == final.answer
    call = zk.model_calls(stream.conversation_id)[-1]
    assert call["stream"] == 1 and 0 < call["ttft_ms"] <= call["latency_ms"]
    # a follow-up is rewritten by the real model, then answered
    follow = zk.chat(real_app, "And for managers?", stream.conversation_id)
    assert not isinstance(follow, ChatStream)
    assert follow.answer.query.strip()
    assert [c["purpose"] for c in zk.model_calls(stream.conversation_id)][-2:] == [
        "rewrite", "answer"]


def test_injected_instructions_stay_quoted_for_a_real_model(zk: Zhiku, llama_server: str) -> None:
    sent: list[dict[str, Any]] = []

    def record(request: httpx.Request) -> None:
        sent.append(json.loads(request.content))

    client = httpx.Client(base_url=llama_server, event_hooks={"request": [record]}, timeout=120)
    model = OpenAIChatModel(llama_server, "smollm2", context_window=2048, client=client)
    hits = zk.search("hr", "How often is the office wifi password rotated?")
    answer = LLMAnswerer(model, LLMAnswerOptions(max_tokens=48)).answer(
        "How often is the office wifi password rotated?", hits)
    client.close()
    system, user = sent[0]["messages"][0], sent[0]["messages"][-1]
    assert "IGNORE YOUR INSTRUCTIONS" not in system["content"]
    assert "not instructions" in system["content"]
    body = user["content"]
    assert body.count("</documents>") == 1
    assert body.index("<documents>") < body.index("IGNORE YOUR") < body.index("</documents>")
    if not answer.refused:
        assert_well_formed(answer)


def test_a_thousand_long_chunks_fit_the_real_window(llama_server: str) -> None:
    """Calibrated estimates keep 1,000 long English and Chinese chunks inside the real window
    (SmolLM2 spends ~1.9 tokens per Chinese character), with no overflow retry needed."""
    model = OpenAIChatModel(llama_server, "smollm2", context_window=2048,
                            tokenize_path="/extras/tokenize")
    en = "Employees accrue paid leave monthly; unused days carry over to March. " * 10
    zh = "员工每月累积带薪年假，未休假期可以结转到次年三月。" * 10
    hits = [Hit(chunk_id=i, document_id=i, kb_id=1, source=f"d{i}.md", title=None,
                text=f"{i}. {en if i % 2 else zh}", matched_text="", heading_path=[], page=None,
                score=1.0, relevance=1.0) for i in range(1000)]
    for question in ("How does leave accrue?", "年假如何累积？"):
        answer = LLMAnswerer(model, LLMAnswerOptions(max_tokens=32)).answer(question, hits)
        assert not answer.usage.estimated  # a real count from the server's tokenizer...
        assert answer.usage.input_tokens + 32 <= 2048  # ...that fits the window
        assert answer.usage.input_tokens > 1000  # and the window was actually used
        assert answer.dropped_hits > 900
    assert model._tokens.cjk_factor > 1.5  # calibrated against SmolLM2's tokenizer


def test_real_context_overflow_is_a_clear_error(llama_server: str) -> None:
    model = OpenAIChatModel(llama_server, "smollm2", context_window=2048)
    with pytest.raises(ContextOverflow):
        model.complete([{"role": "user", "content": "leave policy " * 3000}])


def test_rewrite_with_a_real_model_gives_one_line(llama_server: str) -> None:
    model = OpenAIChatModel(llama_server, "smollm2", context_window=2048)
    query = rewrite_question(model, [
        {"role": "user", "content": "How many days of leave do new employees get?"},
        {"role": "assistant", "content": "New employees get 10 days [1]."},
    ], "And for managers?")
    assert query.strip() and "\n" not in query and len(query) < 400


def test_an_agent_runs_against_the_real_server(zk: Zhiku, llama_server: str) -> None:
    """The tool-calling request is accepted and the loop ends with a stop reason (a model this
    small may answer at once or call tools; either way every call is metered)."""
    zk.add_provider("llamacpp", preset="llamacpp", base_url=llama_server, models=["smollm2"],
                    context_window=2048)
    result = zk.agents.run({"model": "llamacpp/smollm2", "tools": ["calculator"],
                            "knowledge_bases": ["hr"], "max_tokens": 48, "step_limit": 2,
                            "temperature": 0.0}, "How many days of leave do new employees get?")
    assert result.stop_reason in ("answered", "step_limit"), result.error
    assert result.steps >= 1 and result.input_tokens > 0
    assert [c["purpose"] for c in zk.model_calls()] == ["agent"] * result.steps
