"""Evaluating a workflow or an agent: one configuration of it (a draft or a published version)
answers each question, with nothing recorded in its run history.

A chat-shaped workflow gets the question as its one text input and runs on the workflow engine;
an agent runs its tool-calling loop on the question as the user message. The answer is the
run's output text, its citations (a workflow's passed-on ``citations``, an agent's knowledge
search hits it cited) are the retrieved hits, and tokens and cost are the run's own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from zhiku.answer.types import Answer, Citation
from zhiku.core.errors import RunFailed
from zhiku.evals.targets import TargetOutput
from zhiku.evals.types import Usage
from zhiku.retrieval.types import Hit

if TYPE_CHECKING:
    from zhiku.agents.config import AgentConfig
    from zhiku.service import Zhiku
    from zhiku.workflows.schema import Workflow


def _citation(n: int, data: Mapping[str, Any]) -> Citation:
    text = str(data.get("text") or "")
    return Citation(
        n=int(data.get("n") or n), source=str(data.get("source") or ""),
        document_id=int(data.get("document_id") or 0), chunk_id=int(data.get("chunk_id") or 0),
        title=data.get("title"), location=str(data.get("location") or ""),
        page=data.get("page"), heading_path=list(data.get("heading_path") or []),
        score=float(data.get("score") or 0.0), text=text, quote=str(data.get("quote") or ""),
    )


def _hit(c: Citation) -> Hit:
    return Hit(chunk_id=c.chunk_id, document_id=c.document_id, kb_id=0, source=c.source,
               title=c.title, text=c.text, matched_text=c.text, heading_path=c.heading_path,
               page=c.page, score=c.score, relevance=c.score)


def output(answer: str, citations: Sequence[Mapping[str, Any]], *, refused: bool,
           grounded: bool, top_k: int, usage: Usage) -> TargetOutput:
    """A run's answer as a target's output: its citations, in order, are the hits."""
    cited = [_citation(i, c) for i, c in enumerate(citations, start=1)]
    hits = [_hit(c) for c in cited]
    return TargetOutput(hits=hits[:top_k], usage=usage, answer=Answer(
        answer=answer, citations=cited, refused=refused, hits=hits, grounded=grounded))


class AppRunTarget:
    """A workflow's or an agent's ``config`` (labelled ``label``, e.g. ``draft`` or ``v3``)."""

    def __init__(self, zk: Zhiku, kind: Literal["workflow", "agent"], slug: str,
                 config: Workflow | AgentConfig, label: str = "") -> None:
        self._zk = zk
        self.kind = kind
        self.slug = slug
        self._config = config
        self._label = label
        if kind == "workflow":  # fail now on a workflow that takes no single text input
            from zhiku.apps.running import chat_input
            from zhiku.workflows.schema import Workflow

            assert isinstance(config, Workflow)
            self._input = chat_input(config)

    @property
    def name(self) -> str:
        """``workflow:SLUG@LABEL`` or ``agent:SLUG@LABEL``."""
        return f"{self.kind}:{self.slug}" + (f"@{self._label}" if self._label else "")

    def run(self, question: str, top_k: int, with_answer: bool) -> TargetOutput:
        """Run the configuration on ``question`` (an app answers even when only its hits
        are wanted: they are what it cited)."""
        if self.kind == "workflow":
            return self._workflow(question, top_k)
        return self._agent(question, top_k)

    def _workflow(self, question: str, top_k: int) -> TargetOutput:
        from zhiku.apps.running import workflow_result
        from zhiku.workflows.schema import Workflow

        assert isinstance(self._config, Workflow)
        run = self._zk.workflows.engine.run(self._config, {self._input: question})
        result = workflow_result(self.slug, None, run)
        if result.status != "succeeded":
            raise RunFailed(f"workflow '{self.slug}' {result.status}: {result.error}")
        usage = Usage(prompt_tokens=result.input_tokens, completion_tokens=result.output_tokens,
                      cost=result.cost)
        return output(result.output, result.citations, refused=result.refused,
                      grounded=result.grounded, top_k=top_k, usage=usage)

    def _agent(self, question: str, top_k: int) -> TargetOutput:
        from dataclasses import asdict

        from zhiku.agents.config import AgentConfig

        assert isinstance(self._config, AgentConfig)
        result = self._zk.agents.run(self._config, question)  # an unsaved config: unrecorded
        if result.stop_reason != "answered":
            raise RunFailed(f"agent '{self.slug}' stopped ({result.stop_reason}): "
                            f"{result.error or 'no answer'}")
        usage = Usage(prompt_tokens=result.input_tokens, completion_tokens=result.output_tokens,
                      cost=result.cost)
        return output(result.answer, [asdict(c) for c in result.citations], refused=False,
                      grounded=bool(result.citations), top_k=top_k, usage=usage)
