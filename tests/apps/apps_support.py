"""Shared by the app tests (a module of its own, imported by a unique name): the HR knowledge
base, a provider on the scripted model server, and one app of each kind on them."""

from __future__ import annotations

from typing import Any

from scripted_llm import DOCS
from zhiku.ingest.pipeline import SourceItem
from zhiku.service import Zhiku

MODEL = "scripted/scripted-model"

CHAT_FLOW: dict[str, Any] = {
    "nodes": [
        {"id": "start", "type": "start", "inputs": [{"name": "query"}]},
        {"id": "llm", "type": "llm", "model": MODEL, "prompt": "Answer: {{ start.query }}"},
        {"id": "answer", "type": "answer", "text": "{{ llm.text }}"},
    ],
    "edges": [{"source": "start", "target": "llm"}, {"source": "llm", "target": "answer"}],
}
"""A chat-shaped workflow: one text input, one model call, an answer."""

FORM_FLOW: dict[str, Any] = {
    "nodes": [
        {"id": "start", "type": "start",
         "inputs": [{"name": "name"}, {"name": "age", "type": "integer"}]},
        {"id": "end", "type": "end", "outputs": {"who": "start.name", "age": "start.age"}},
    ],
    "edges": [{"source": "start", "target": "end"}],
}
"""A workflow that is not chat-shaped: two required inputs, no model."""


def provider(zk: Zhiku, url: str) -> None:
    """The scripted server as provider ``scripted``, with prices so costs can be checked."""
    zk.add_provider("scripted", base_url=url, models=["scripted-model"],
                    context_window=8192, price_input=2.0, price_output=8.0, max_retries=0)


def hr(zk: Zhiku) -> None:
    """The HR knowledge base, really ingested."""
    zk.create_kb("hr")
    report = zk.ingest_items("hr", [SourceItem(n, data=t.encode()) for n, t in DOCS.items()])
    assert not report.failed


def one_of_each(zk: Zhiku) -> None:
    """``helpdesk`` (extractive assistant on hr), ``chatflow`` (chat-shaped workflow),
    ``form`` (a workflow with two inputs) and ``helper`` (an agent), all published."""
    zk.create_assistant("Helpdesk", slug="helpdesk", knowledge_bases=["hr"])
    zk.workflows.create("Chat flow", CHAT_FLOW, slug="chatflow")
    zk.workflows.create("Form", FORM_FLOW, slug="form")
    zk.agents.create({"name": "Helper", "model": MODEL, "knowledge_bases": ["hr"]},
                     slug="helper")
    for slug in ("helpdesk", "chatflow", "form", "helper"):
        zk.apps.publish(slug)
