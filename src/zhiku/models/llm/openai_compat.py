"""The OpenAI-compatible chat client (DeepSeek, Qwen, Doubao, Kimi, GLM, vLLM, Ollama, llama.cpp).

Built on httpx rather than the ``openai`` package: httpx is already a dependency, every provider
here speaks the same small wire protocol (``POST /chat/completions``, SSE ``data:`` lines), and
owning the loop lets us keep non-standard fields (``reasoning_content``), map each provider's
error bodies to our own errors, control retries/jitter ourselves, and cancel a stream by closing
its response; the ``openai`` package would add ~3 MB of dependencies and its own retry policy.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
import weakref
from collections.abc import Iterator, Sequence
from typing import Any

import httpx

from zhiku.core.errors import ProviderError
from zhiku.models.llm import errors as e
from zhiku.models.llm.reasoning import ThinkSplitter
from zhiku.models.llm.retry import RetryPolicy
from zhiku.models.llm.tokens import TokenEstimator
from zhiku.models.llm.toolcalls import StreamedCalls, decode_calls
from zhiku.models.llm.types import (
    CancelToken,
    Completion,
    Delta,
    GenerationOptions,
    Message,
    Usage,
)
from zhiku.text.tokens import count_tokens

_OVERFLOW_HINTS = (
    "context length", "context window", "maximum context", "too long", "too many tokens", "exceed"
)
_MODEL_HINTS = (
    "model_not_found", "does not exist", "not found", "unknown model", "invalid model",
    "no such model",
)


class OpenAIChatModel:
    """One model of one OpenAI-compatible provider."""

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        provider: str = "openai",
        context_window: int = 8192,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        token_safety: float = 1.3,
        tokenize_path: str | None = None,
        client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.name = f"{provider}/{model}"
        self.model = model
        self.context_window = context_window
        self._key = api_key
        self._retry = retry or RetryPolicy()
        self._tokens = TokenEstimator(token_safety, token_safety)
        self._tokenize_path = tokenize_path  # calibrated on first use, then forgotten
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = client or httpx.Client(
            base_url=base_url.rstrip("/"),
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            transport=transport,
        )
        # Pooled connections are closed when the model is dropped, not left to the GC.
        self._finalizer = weakref.finalize(self, self._client.close)

    def close(self) -> None:
        """Close the connection pool."""
        self._finalizer()

    def count_tokens(self, text: str) -> int:
        """A safe over-estimate per script (see ``TokenEstimator``), plus message framing."""
        if self._tokenize_path is not None:
            self._calibrate(self._tokenize_path)
        return self._tokens.count(text)

    def _calibrate(self, path: str) -> None:
        """Scale the estimate by the server's tokenizer (``/extras/tokenize`` of llama-cpp-python,
        ``/tokenize`` of llama.cpp); keep the default factors if the endpoint fails."""
        self._tokenize_path = None
        url = self._client.base_url.copy_with(path=path)
        key = "input" if path.endswith("/extras/tokenize") else "content"

        def tokenize(text: str) -> int:
            response = self._client.post(url, json={key: text, "model": self.model})
            response.raise_for_status()
            return len(response.json()["tokens"])

        with contextlib.suppress(httpx.HTTPError, ValueError, KeyError, TypeError):
            self._tokens = TokenEstimator.calibrated(tokenize)

    # -- calls ----------------------------------------------------------------------------
    def complete(
        self,
        messages: Sequence[Message],
        options: GenerationOptions | None = None,
        cancel: CancelToken | None = None,
    ) -> Completion:
        """One whole reply (``stream: false``)."""
        start = time.perf_counter()
        with self._open(messages, options, cancel, stream=False) as response:
            try:
                body = json.loads(response.read())
                choice = body["choices"][0]
                msg = choice["message"]
            except (ValueError, KeyError, IndexError, TypeError) as exc:
                raise e.MalformedResponse(
                    f"{self.name} sent a reply that is not chat JSON"
                ) from exc
        splitter = ThinkSplitter()
        text, think = splitter.feed(msg.get("content") or "")
        tail, think_tail = splitter.flush()
        native = msg.get("reasoning_content") or msg.get("reasoning") or ""
        reasoning = native + think + think_tail
        calls = decode_calls(msg.get("tool_calls"))
        usage = self._usage(body.get("usage"), messages, text + tail)
        return Completion(
            text=(text + tail).strip(),
            reasoning=reasoning.strip(),
            model=body.get("model") or self.model,
            finish_reason=choice.get("finish_reason"),
            usage=usage,
            latency_ms=(time.perf_counter() - start) * 1000,
            tool_calls=calls,
        )

    def stream(
        self,
        messages: Sequence[Message],
        options: GenerationOptions | None = None,
        cancel: CancelToken | None = None,
    ) -> Iterator[Delta]:
        """Deltas as they arrive; the last one carries the whole ``Completion``."""
        start = time.perf_counter()
        with self._open(messages, options, cancel, stream=True) as response:
            forget = cancel.on_cancel(lambda: _interrupt(response)) if cancel else None
            try:
                yield from self._read_stream(response, messages, cancel, start)
            finally:
                if forget is not None:
                    forget()

    def _read_stream(
        self,
        response: httpx.Response,
        messages: Sequence[Message],
        cancel: CancelToken | None,
        start: float,
    ) -> Iterator[Delta]:
        splitter = ThinkSplitter()
        text: list[str] = []
        reasoning: list[str] = []
        ttft: float | None = None
        finish: str | None = None
        usage_raw: Any = None
        model = self.model
        done = False
        calls = StreamedCalls()
        try:
            for line in response.iter_lines():
                if cancel is not None and cancel.cancelled:
                    raise e.Cancelled("the call was cancelled")
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    done = True
                    break
                event = _decode_event(data, self.name)
                usage_raw = event.get("usage") or usage_raw
                model = event.get("model") or model
                for choice in event.get("choices") or []:
                    finish = choice.get("finish_reason") or finish
                    d = choice.get("delta") or {}
                    calls.feed(d.get("tool_calls") or [])
                    answer, think = splitter.feed(d.get("content") or "")
                    think = (d.get("reasoning_content") or d.get("reasoning") or "") + think
                    if answer or think:
                        ttft = ttft if ttft is not None else (time.perf_counter() - start) * 1000
                        text.append(answer)
                        reasoning.append(think)
                        yield Delta(text=answer, reasoning=think)
        except httpx.TimeoutException as exc:
            raise e.ProviderTimeout(f"{self.name} stopped sending (read time-out)") from exc
        except (httpx.TransportError, httpx.StreamError) as exc:
            if cancel is not None and cancel.cancelled:
                raise e.Cancelled("the call was cancelled") from exc
            raise e.BrokenStream(f"{self.name} broke the stream: {type(exc).__name__}") from exc
        if cancel is not None and cancel.cancelled:
            raise e.Cancelled("the call was cancelled")
        if not done and finish is None:
            raise e.BrokenStream(f"{self.name} ended the stream before it finished")
        tail, think_tail = splitter.flush()
        if tail or think_tail:
            text.append(tail)
            reasoning.append(think_tail)
            yield Delta(text=tail, reasoning=think_tail)
        full = "".join(text).strip()
        yield Delta(done=Completion(
            text=full,
            reasoning="".join(reasoning).strip(),
            model=model,
            finish_reason=finish,
            usage=self._usage(usage_raw, messages, full),
            latency_ms=(time.perf_counter() - start) * 1000,
            ttft_ms=ttft,
            tool_calls=calls.calls(),
        ))

    # -- plumbing -------------------------------------------------------------------------
    def _payload(
        self, messages: Sequence[Message], options: GenerationOptions | None, stream: bool
    ) -> dict[str, Any]:
        opts = options or GenerationOptions()
        payload: dict[str, Any] = {
            "model": self.model,
            "messages": list(messages),
            "temperature": opts.temperature,
            "max_tokens": opts.max_tokens,
            "stream": stream,
        }
        if opts.stop:
            payload["stop"] = opts.stop
        if opts.tools:
            payload["tools"] = opts.tools
            if opts.tool_choice is not None:
                payload["tool_choice"] = opts.tool_choice
            if opts.parallel_tool_calls is not None:
                payload["parallel_tool_calls"] = opts.parallel_tool_calls
        if stream:
            payload["stream_options"] = {"include_usage": True}
        return payload

    def _open(
        self,
        messages: Sequence[Message],
        options: GenerationOptions | None,
        cancel: CancelToken | None,
        stream: bool,
    ) -> _Opened:
        """Send the request, retrying 429/5xx/transport failures with backoff and jitter."""
        payload = self._payload(messages, options, stream)
        attempt = 0
        while True:
            if cancel is not None and cancel.cancelled:
                raise e.Cancelled("the call was cancelled")
            failure: ProviderError
            retry_after: float | None = None
            try:
                request = self._client.build_request("POST", "/chat/completions", json=payload)
                response = self._client.send(request, stream=True)
            except httpx.TimeoutException as exc:
                failure = e.ProviderTimeout(f"{self.name} timed out ({type(exc).__name__})")
            except httpx.TransportError as exc:
                failure = e.ProviderUnavailable(f"{self.name} unreachable: {type(exc).__name__}")
            else:
                if response.status_code == 200:
                    return _Opened(response)
                body = self._scrub(response.read().decode("utf-8", "replace"))
                response.close()
                failure = self._status_error(response.status_code, body)
                retry_after = _retry_after(response)
            if not isinstance(failure, e.RETRYABLE) or attempt >= self._retry.max_retries:
                if attempt:
                    failure.details["attempts"] = attempt + 1
                raise failure
            wait = self._retry.delay(attempt, retry_after)
            if cancel is not None and cancel.wait(wait):
                raise e.Cancelled("the call was cancelled")
            if cancel is None:
                time.sleep(wait)
            attempt += 1

    def _status_error(self, status: int, body: str) -> ProviderError:
        low = body.lower()
        snippet = body[:300]
        if status in (401, 403):
            return e.AuthenticationFailed(
                f"{self.name}: the provider refused the API key (HTTP {status}): {snippet}",
                http=status,
            )
        if status == 429:
            return e.ProviderRateLimited(
                f"{self.name}: rate limited (HTTP 429): {snippet}", http=status
            )
        if status >= 500:
            return e.ProviderUnavailable(f"{self.name}: server error HTTP {status}", http=status)
        if status == 413 or any(h in low for h in _OVERFLOW_HINTS):
            return e.ContextOverflow(
                f"{self.name}: the prompt does not fit the context window: {snippet}", http=status
            )
        if status == 404 or ("model" in low and any(h in low for h in _MODEL_HINTS)):
            return e.UnknownModel(
                f"{self.name}: the provider does not serve model '{self.model}' (HTTP {status})",
                http=status,
            )
        return ProviderError(f"{self.name}: HTTP {status}: {snippet}", http=status)

    def _scrub(self, text: str) -> str:
        return text.replace(self._key, "****") if self._key else text

    def _usage(self, raw: Any, messages: Sequence[Message], text: str) -> Usage:
        if isinstance(raw, dict) and "prompt_tokens" in raw:
            return Usage(int(raw.get("prompt_tokens") or 0), int(raw.get("completion_tokens") or 0))
        prompt = sum(self.count_tokens(m.get("content") or "") for m in messages)
        return Usage(prompt, count_tokens(text), estimated=True)


class _Opened:
    """A streamed response, closed on exit."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response

    def __enter__(self) -> httpx.Response:
        return self.response

    def __exit__(self, *exc: object) -> None:
        self.response.close()


def _decode_event(data: str, name: str) -> dict[str, Any]:
    try:
        event = json.loads(data)
    except ValueError as exc:
        raise e.MalformedResponse(f"{name} sent a stream event that is not JSON") from exc
    if not isinstance(event, dict):
        raise e.MalformedResponse(f"{name} sent a stream event that is not a JSON object")
    if "error" in event and not event.get("choices"):
        raise e.BrokenStream(f"{name} reported an error mid-stream: {str(event['error'])[:200]}")
    return event


def _interrupt(response: httpx.Response) -> None:
    """Wake a thread blocked reading ``response`` (closing alone does not interrupt a read)."""
    stream = response.extensions.get("network_stream")
    sock = stream.get_extra_info("socket") if stream is not None else None
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return float(value) if value else None
    except ValueError:
        return None
