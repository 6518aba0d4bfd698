"""Reasoning kept apart from the answer: ``<think>`` blocks and ``reasoning_content``."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from llm_scripted_server import Script, ScriptedServer

from zhiku.models.llm.openai_compat import OpenAIChatModel
from zhiku.models.llm.reasoning import ThinkSplitter, split_reasoning


def test_think_block_is_split_from_a_whole_reply() -> None:
    reply = "<think>First, the policy says 10.</think>\n\nTen days [1]."
    answer, reasoning = split_reasoning(reply)
    assert answer == "Ten days [1]." and reasoning == "First, the policy says 10."


@given(st.lists(st.integers(min_value=1, max_value=7), min_size=1, max_size=30))
def test_think_split_is_the_same_however_the_stream_is_cut(cuts: list[int]) -> None:
    text = "<think>step 1 <b> and step 2</think>Answer with <i>tags</i> [2]."
    pieces, i = [], 0
    for n in cuts:
        pieces.append(text[i : i + n])
        i += n
    pieces.append(text[i:])
    splitter = ThinkSplitter()
    answer, reasoning = "", ""
    for p in pieces:
        a, r = splitter.feed(p)
        answer, reasoning = answer + a, reasoning + r
    a, r = splitter.flush()
    assert (answer + a, reasoning + r) == ("Answer with <i>tags</i> [2].", "step 1 <b> and step 2")


def test_reasoning_content_and_think_tags_over_http(scripted: ScriptedServer) -> None:
    model = OpenAIChatModel(scripted.url, "r1", provider="s")
    scripted.push(Script(text="The answer [1].", reasoning="Let me think."))
    out = model.complete([{"role": "user", "content": "q"}])
    assert (out.text, out.reasoning) == ("The answer [1].", "Let me think.")
    scripted.push(Script(text="<think>hidden chain</think>Visible [1].", reasoning="R1 field. "))
    deltas = list(model.stream([{"role": "user", "content": "q"}]))
    done = deltas[-1].done
    assert done is not None and done.text == "Visible [1]."
    assert done.reasoning == "R1 field. hidden chain"
    assert "hidden" not in "".join(d.text for d in deltas)
