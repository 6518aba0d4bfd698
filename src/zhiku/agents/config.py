"""An agent's settings: one pydantic model, stored as JSON and validated on save."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

TOOL_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
"""The names OpenAI-compatible providers accept for functions."""


class AgentConfig(BaseModel):
    """Instructions, a model, knowledge bases and tools, and the limits of one run.

    ``tools`` names registry tools (built-ins such as ``calculator``, or ``source__tool`` from a
    registered MCP server or OpenAPI spec). ``knowledge_search`` is offered whenever
    ``knowledge_bases`` is set, ``http_get`` whenever ``http_hosts`` is.
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field("agent", min_length=1, max_length=200)
    instructions: str = Field("", max_length=20_000)
    model: str = Field(..., min_length=3, description="provider/model")
    knowledge_bases: list[str] = Field(default_factory=list)
    tools: list[str] = Field(default_factory=list)
    http_hosts: list[str] = Field(default_factory=list,
                                  description="hosts (host or host:port) http_get may fetch")
    step_limit: int = Field(8, ge=1, le=50, description="model calls per run")
    token_budget: int = Field(50_000, ge=100, description="input + output tokens per run")
    parallel_tool_calls: bool = True
    tool_timeout_s: float = Field(30.0, gt=0, le=600)
    temperature: float = Field(0.2, ge=0, le=2)
    max_tokens: int = Field(1024, ge=1, le=32_768, description="output tokens per model call")
    top_k: int = Field(5, ge=1, le=50, description="passages per knowledge search")
    max_result_chars: int = Field(20_000, ge=100, le=1_000_000,
                                  description="a tool result longer than this is cut")

    @field_validator("tools")
    @classmethod
    def _tool_names(cls, names: list[str]) -> list[str]:
        for name in names:
            if not TOOL_NAME_RE.match(name):
                raise ValueError(f"'{name}' is not a tool name (letters, digits, _ and -)")
        return list(dict.fromkeys(names))
