"""Shared by the agent tests (a module of its own, imported by a unique name): the scripted
OpenAI-compatible server and the HR documents of the LLM tests."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any


def _llm_module(name: str) -> Any:
    if name in sys.modules:
        return sys.modules[name]
    path = Path(__file__).parents[1] / "llm" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


scripted_server = _llm_module("llm_scripted_server")
Script = scripted_server.Script
DOCS: dict[str, str] = _llm_module("llm_support").DOCS
