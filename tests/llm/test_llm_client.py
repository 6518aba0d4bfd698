"""The OpenAI-compatible client against the scripted server: replies, streams and every fault."""

from __future__ import annotations

import random
import threading
import time

import pytest
from llm_scripted_server import Script, ScriptedServer

from zhiku.core.errors import ProviderError
from zhiku.models.llm import errors as e
from zhiku.models.llm.fallback import FallbackChatModel
from zhiku.models.llm.openai_compat import OpenAIChatModel
from zhiku.models.llm.retry import RetryPolicy
from zhiku.models.llm.types import CancelToken, GenerationOptions, Message, collect

MSGS: list[Message] = [{"role": "user", "content": "hello"}]
FAST = RetryPolicy(max_retries=2, base=0.01, cap=0.05, rng=random.Random(0))


def client(server: ScriptedServer, **kw: object) -> OpenAIChatModel:
    opts: dict[str, object] = {"api_key": "sk-secret-123456789", "retry": FAST, "timeout": 5.0}
    opts.update(kw)
    return OpenAIChatModel(server.url, "scripted-model", provider="scripted", **opts)  # type: ignore[arg-type]


def test_complete_sends_the_openai_request_and_reads_usage(scripted: ScriptedServer) -> None:
    scripted.push(Script(text="Hi there [1]", usage=(11, 3)))
    out = client(scripted).complete(MSGS, GenerationOptions(temperature=0.1, max_tokens=20))
    assert out.text == "Hi there [1]"
    assert (out.usage.input_tokens, out.usage.output_tokens, out.usage.estimated) == (11, 3, False)
    req = scripted.requests[0]
    assert req["model"] == "scripted-model" and req["messages"] == MSGS
    assert req["max_tokens"] == 20 and req["stream"] is False
    assert scripted.headers[0]["Authorization"] == "Bearer sk-secret-123456789"


def test_stream_yields_pieces_then_the_completion(scripted: ScriptedServer) -> None:
    scripted.push(Script(text="one two three four five", usage=(9, 5)))
    deltas = list(client(scripted).stream(MSGS))
    assert len([d for d in deltas if d.text]) > 3
    done = deltas[-1].done
    assert done is not None and done.text == "one two three four five"
    assert done.usage.input_tokens == 9 and done.ttft_ms is not None
    assert scripted.requests[0]["stream"] is True


def test_usage_is_estimated_when_the_server_sends_none(scripted: ScriptedServer) -> None:
    scripted.push(Script(text="a reply of several words", usage=None))
    out = client(scripted).complete(MSGS)
    assert out.usage.estimated and out.usage.input_tokens > 0 and out.usage.output_tokens > 0


def test_429_and_500_are_retried_then_succeed(scripted: ScriptedServer) -> None:
    scripted.push(Script(status=429, headers={"Retry-After": "0"}), Script(status=500),
                  Script(text="finally"))
    assert client(scripted).complete(MSGS).text == "finally"
    assert len(scripted.requests) == 3


def test_retries_give_up_with_a_clear_error(scripted: ScriptedServer) -> None:
    scripted.push(*[Script(status=503) for _ in range(3)])
    with pytest.raises(e.ProviderUnavailable, match="HTTP 503") as info:
        client(scripted).complete(MSGS)
    assert info.value.details["attempts"] == 3
    scripted.push(*[Script(status=429) for _ in range(3)])
    with pytest.raises(e.ProviderRateLimited):
        client(scripted).complete(MSGS)


def test_backoff_has_jitter_and_a_cap() -> None:
    policy = RetryPolicy(base=1.0, cap=4.0, rng=random.Random(1))
    delays = [policy.delay(n) for n in range(8)]
    assert all(0 <= d <= 4.0 for d in delays) and len(set(delays)) == len(delays)
    assert policy.delay(0, retry_after=3.0) >= 3.0


def test_time_out_is_retried_then_reported(scripted: ScriptedServer) -> None:
    scripted.push(Script(delay=1.0), Script(text="fast"))
    assert client(scripted, timeout=0.3).complete(MSGS).text == "fast"
    scripted.push(*[Script(delay=1.0) for _ in range(3)])
    with pytest.raises(e.ProviderTimeout):
        client(scripted, timeout=0.3).complete(MSGS)


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (401, '{"error": {"message": "Incorrect API key provided: sk-secret-123456789"}}',
         e.AuthenticationFailed),
        (404, '{"error": {"code": "model_not_found"}}', e.UnknownModel),
        (400, '{"error": {"message": "The model `x` does not exist"}}', e.UnknownModel),
        (400, '{"error": {"message": "This model\'s maximum context length is 4096 tokens"}}',
         e.ContextOverflow),
        (400, '{"error": {"message": "temperature out of range"}}', ProviderError),
    ],
)
def test_error_statuses_map_to_clear_errors(
    scripted: ScriptedServer, status: int, body: str, error: type[ProviderError]
) -> None:
    scripted.push(Script(status=status, body=body))
    with pytest.raises(error) as info:
        client(scripted).complete(MSGS)
    assert "sk-secret-123456789" not in str(info.value)  # the key never leaks into errors
    assert len(scripted.requests) == 1  # not retried


def test_malformed_json_is_a_clear_error(scripted: ScriptedServer) -> None:
    scripted.push(Script(body="<html>gateway</html>"))
    with pytest.raises(e.MalformedResponse, match="not chat JSON"):
        client(scripted).complete(MSGS)
    scripted.push(Script(text="abcdefghijkl", invalid_event=True))
    with pytest.raises(e.MalformedResponse, match="not JSON"):
        list(client(scripted).stream(MSGS))


def test_truncated_stream_is_a_broken_stream(scripted: ScriptedServer) -> None:
    scripted.push(Script(text="this stream will stop half way", truncate_after=3))
    seen: list[str] = []
    with pytest.raises(e.BrokenStream, match="before it finished"):
        for delta in client(scripted).stream(MSGS):
            seen.append(delta.text)
    assert seen  # some text came before the break


def test_cancellation_stops_a_stream(scripted: ScriptedServer) -> None:
    scripted.push(Script(text="x" * 200, chunk_delay=0.02))
    cancel = CancelToken()
    got: list[str] = []
    with pytest.raises(e.Cancelled):
        for delta in client(scripted).stream(MSGS, cancel=cancel):
            got.append(delta.text)
            if len(got) == 3:
                cancel.cancel()
    assert len(got) == 3


def test_cancellation_interrupts_backoff(scripted: ScriptedServer) -> None:
    scripted.push(*[Script(status=500) for _ in range(5)])
    cancel = CancelToken()
    slow = RetryPolicy(max_retries=5, base=5.0, cap=5.0, rng=random.Random(3))
    threading.Timer(0.2, cancel.cancel).start()
    start = time.monotonic()
    with pytest.raises(e.Cancelled):
        client(scripted, retry=slow).complete(MSGS, cancel=cancel)
    assert time.monotonic() - start < 3


def test_fallback_model_answers_when_the_first_fails(scripted: ScriptedServer) -> None:
    scripted.push(Script(status=500), Script(status=500), Script(status=500), Script(text="backup"))
    primary = client(scripted)
    backup = OpenAIChatModel(scripted.url, "backup-model", provider="b", retry=FAST)
    chain = FallbackChatModel([primary, backup])
    assert chain.complete(MSGS).text == "backup"
    assert [r["model"] for r in scripted.requests][-1] == "backup-model"
    # streams fall back too, while nothing has been shown
    scripted.push(Script(status=401), Script(text="from backup"))
    assert collect(FallbackChatModel([client(scripted, retry=RetryPolicy(0)), backup])
                   .stream(MSGS)).text == "from backup"


def test_fallback_does_not_glue_two_streams(scripted: ScriptedServer) -> None:
    scripted.push(Script(text="partial answer here", truncate_after=2), Script(text="other"))
    backup = OpenAIChatModel(scripted.url, "backup-model", provider="b", retry=FAST)
    with pytest.raises(e.BrokenStream):
        list(FallbackChatModel([client(scripted), backup]).stream(MSGS))
    assert len(scripted.requests) == 1


def test_token_counts_over_estimate_with_the_safety_factor(scripted: ScriptedServer) -> None:
    from zhiku.text.tokens import count_tokens

    text = "Leave requests go to the direct manager. 报销需要提供发票原件。"
    assert client(scripted).count_tokens(text) >= count_tokens(text) * 1.3


def test_cancellation_interrupts_a_blocked_read(scripted: ScriptedServer) -> None:
    scripted.push(Script(text="slow slow slow slow", chunk_delay=3.0))
    cancel = CancelToken()
    start = time.monotonic()
    with pytest.raises(e.Cancelled):
        for delta in client(scripted).stream(MSGS, cancel=cancel):
            if delta.text:
                threading.Timer(0.2, cancel.cancel).start()
    assert time.monotonic() - start < 2.5
