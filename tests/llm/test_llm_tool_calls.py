"""Tool calling in the OpenAI-compatible client: ``tools`` sent, ``tool_calls`` read back from
whole and streamed replies; malformed arguments are a value on the call, never a crash."""

from __future__ import annotations

import pytest
from llm_scripted_server import Script, ScriptedServer

from zhiku.models.llm import errors as e
from zhiku.models.llm.openai_compat import OpenAIChatModel
from zhiku.models.llm.types import GenerationOptions, Message, ToolCall, collect

MSGS: list[Message] = [{"role": "user", "content": "what time is it?"}]
TOOLS = [{"type": "function", "function": {
    "name": "current_time", "description": "now",
    "parameters": {"type": "object", "properties": {"timezone": {"type": "string"}}}}}]


def client(server: ScriptedServer) -> OpenAIChatModel:
    return OpenAIChatModel(server.url, "scripted-model", provider="scripted", timeout=5.0)


@pytest.mark.parametrize("stream", [False, True])
def test_tools_are_sent_and_calls_read_back(scripted: ScriptedServer, stream: bool) -> None:
    scripted.push(Script(text="", tool_calls=[("current_time", '{"timezone": "Asia/Shanghai"}'),
                                              ("calculator", '{"expression": "1+2"}')]))
    opts = GenerationOptions(tools=TOOLS, tool_choice="auto", parallel_tool_calls=True)
    model = client(scripted)
    out = collect(model.stream(MSGS, opts)) if stream else model.complete(MSGS, opts)
    assert out.finish_reason == "tool_calls"
    assert out.tool_calls == [
        ToolCall("call_0", "current_time", {"timezone": "Asia/Shanghai"},
                 '{"timezone": "Asia/Shanghai"}'),
        ToolCall("call_1", "calculator", {"expression": "1+2"}, '{"expression": "1+2"}'),
    ]
    sent = scripted.chat_requests[-1]
    assert sent["tools"] == TOOLS and sent["tool_choice"] == "auto"
    assert sent["parallel_tool_calls"] is True


@pytest.mark.parametrize("stream", [False, True])
def test_malformed_arguments_are_an_error_value(scripted: ScriptedServer, stream: bool) -> None:
    scripted.push(Script(text="", tool_calls=[("calculator", '{"expression": "1+'),
                                              ("calculator", "[1, 2]"),
                                              ("current_time", "")]))
    model = client(scripted)
    opts = GenerationOptions(tools=TOOLS)
    out = collect(model.stream(MSGS, opts)) if stream else model.complete(MSGS, opts)
    bad, listed, empty = out.tool_calls
    assert bad.arguments == {} and bad.error is not None and "not valid JSON" in bad.error
    assert bad.raw_arguments == '{"expression": "1+'
    assert listed.error == "the arguments are not a JSON object"
    assert empty.error is None and empty.arguments == {}


def test_callers_without_tools_send_none(scripted: ScriptedServer) -> None:
    scripted.push(Script(text="plain"))
    out = client(scripted).complete(MSGS)
    assert out.text == "plain" and out.tool_calls == []
    assert "tools" not in scripted.chat_requests[-1]
    assert "tool_choice" not in scripted.chat_requests[-1]


def test_tool_messages_are_sent_in_the_wire_shape(scripted: ScriptedServer) -> None:
    call = ToolCall("call_0", "current_time", {}, "{}")
    history: list[Message] = [
        *MSGS,
        {"role": "assistant", "content": "", "tool_calls": [call.wire()]},
        {"role": "tool", "tool_call_id": "call_0", "content": '{"iso": "2026"}'},
    ]
    scripted.push(Script(text="It is 2026."))
    assert client(scripted).complete(history, GenerationOptions(tools=TOOLS)).text == \
        "It is 2026."
    assert scripted.chat_requests[-1]["messages"] == history


def test_the_local_model_refuses_tools_clearly() -> None:
    from zhiku.models.llm.local import LlamaCppChatModel, llama_available

    if not llama_available():
        pytest.skip("llama-cpp-python is not installed")
    model = LlamaCppChatModel()
    with pytest.raises(e.ToolsUnsupported, match="does not support tool calling"):
        model.complete(MSGS, GenerationOptions(tools=TOOLS))
