"""LLM extraction against a scripted OpenAI-compatible server on 127.0.0.1: malformed JSON
repaired, one retry with the error, batching, cache hits on re-run, budget stop and resume."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from zhiku.graph import extract_llm as llmx
from zhiku.graph.store import GraphStore
from zhiku.ingest.pipeline import SourceItem
from zhiku.models.llm.json import JsonRepairError, loads_lenient
from zhiku.models.llm.openai_compat import OpenAIChatModel
from zhiku.models.llm.retry import RetryPolicy
from zhiku.service import Zhiku


class Script:
    """Replies to hand out in order (then a default built from the prompt), and the prompts."""

    def __init__(self) -> None:
        self.queue: list[str] = []
        self.prompts: list[str] = []

    def reply(self, prompt: str) -> str:
        self.prompts.append(prompt)
        if self.queue:
            return self.queue.pop(0)
        n = prompt.count("### Passage ")
        chunks = [{"id": i, "entities": [{"name": f"Entity{i}", "type": "thing"}],
                   "relations": []} for i in range(n)]
        return json.dumps({"chunks": chunks})


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            prompt = body["messages"][-1]["content"]
            text = script.reply(prompt)
            payload = {"id": "x", "model": body["model"], "choices": [
                {"index": 0, "finish_reason": "stop",
                 "message": {"role": "assistant", "content": text}}],
                "usage": {"prompt_tokens": len(prompt) // 4, "completion_tokens": len(text) // 4}}
            data = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1", script
    httpd.shutdown()
    httpd.server_close()


def model(url: str) -> llmx.TextModel:
    chat = OpenAIChatModel(url, "tiny", retry=RetryPolicy(max_retries=0))
    return llmx.from_chat_model(chat)


def kb_with(zk: Zhiku, name: str, texts: list[str]) -> None:
    zk.create_kb(name, embedder="hashing")
    zk.ingest_items(name, [SourceItem(f"d{i}.md", data=t.encode()) for i, t in enumerate(texts)])


PASSAGES = [
    "Marie Curie worked in Paris with Pierre Curie.",
    "居里夫人在巴黎工作。",
    "Pierre Curie taught at the Sorbonne.",
    "The Sorbonne is in Paris.",
    "Paris is the capital of France.",
]


def test_lenient_json_repairs_what_small_models_break() -> None:
    assert loads_lenient('Sure!\n```json\n{"a": [1, 2,],}\n```\nDone.') == {"a": [1, 2]}
    assert loads_lenient("{'a': 'it\\'s', b: True, c: None}") == {"a": "it's", "b": True,
                                                                  "c": None}
    assert loads_lenient('{"chunks": [{"id": 0, "entities": [{"name": "X"') == {
        "chunks": [{"id": 0, "entities": [{"name": "X"}]}]}
    with pytest.raises(JsonRepairError):
        loads_lenient("I cannot help with that.")


def test_malformed_reply_is_repaired_and_stored(zk: Zhiku, server: tuple[str, Script]) -> None:
    url, script = server
    kb_with(zk, "kb", PASSAGES[:2])
    script.queue.append(
        "Here you go:\n```json\n{'chunks': [{'id': 0, 'entities': [{'name': 'Marie Curie', "
        "'type': 'person'}, {'name': 'Paris', 'type': 'place',},], 'relations': [{'source': "
        "'Marie Curie', 'target': 'Paris', 'type': 'worked_in', 'weight': 8,}]}, {'id': 1, "
        "'entities': [{'name': '居里夫人', 'type': 'person'}], 'relations': []}]}\n```"
    )
    report = zk.graph.build("kb", llm=model(url), batch_size=4)
    assert report.calls == 1 and report.retries == 0 and report.chunks == 2
    shown = zk.graph.show("kb", "Marie Curie")
    assert shown["relations"][0]["type"] == "worked_in"
    assert shown["provenance"][0]["start"] == 0 and shown["provenance"][0]["origin"] == "llm"
    assert zk.graph.show("kb", "居里夫人")["mentions"] == 1
    assert zk.graph.stats("kb")["llm_chunks"] == 2  # what the console's hint goes by


def test_unusable_reply_is_retried_once_with_the_error(
    zk: Zhiku, server: tuple[str, Script]
) -> None:
    url, script = server
    kb_with(zk, "kb", PASSAGES[:1])
    script.queue.append("I am sorry, I cannot produce JSON.")
    report = zk.graph.build("kb", llm=model(url))
    assert report.calls == 2 and report.retries == 1 and report.chunks == 1
    assert "could not be used (no JSON object" in script.prompts[1]
    script.queue += ["nope", "still nope"]
    kb_with(zk, "kb2", ["Ada Lovelace wrote notes."])
    failed = zk.graph.build("kb2", llm=model(url))
    assert failed.failed == 1 and failed.chunks == 0  # left pending for a later run


def test_batching_cache_and_estimate(zk: Zhiku, server: tuple[str, Script]) -> None:
    url, script = server
    kb_with(zk, "kb", PASSAGES)
    est = zk.graph.estimate("kb", "openai/tiny", llmx.Pricing(1.0, 2.0), batch_size=2)
    assert est.chunks == 5 and est.calls == 3 and est.cached == 0 and est.cost > 0
    first = zk.graph.build("kb", llm=model(url), batch_size=2)
    assert first.calls == 3 and first.chunks == 5 and first.cached == 0
    assert all(p.count("### Passage ") <= 2 for p in script.prompts)
    # The same chunks in another knowledge base: all from the cache, nothing paid.
    kb_with(zk, "again", PASSAGES)
    assert zk.graph.estimate("again", "openai/tiny", llmx.Pricing(1.0, 2.0)).cost == 0
    second = zk.graph.build("again", llm=model(url), batch_size=2)
    assert second.calls == 0 and second.cached == 5 and second.chunks == 5
    assert len(script.prompts) == 3


def test_budget_stops_cleanly_and_the_run_resumes(zk: Zhiku, server: tuple[str, Script]) -> None:
    url, script = server
    kb_with(zk, "kb", PASSAGES)
    price = llmx.Pricing(1000.0, 1000.0)  # per million tokens: a call costs ~0.3-0.6
    one_call = price.cost(*llmx.estimate_batch(llmx.plan(
        GraphStore(zk.db).pending_chunks(zk.kb("kb").id, "x"), 2)[0]))
    stopped = zk.graph.build("kb", llm=model(url), pricing=price, budget=one_call * 1.5,
                             batch_size=2)
    assert stopped.stopped == "budget" and stopped.calls == 1 and stopped.chunks == 2
    assert stopped.cost <= one_call * 1.5
    resumed = zk.graph.build("kb", llm=model(url), pricing=price, batch_size=2)
    assert resumed.stopped is None and resumed.chunks == 3 and resumed.calls == 2
    assert len(script.prompts) == 3  # nothing extracted twice
