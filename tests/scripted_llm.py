"""The LLM tests' helpers for every test folder: the scripted OpenAI-compatible server
(tests/llm/llm_scripted_server.py) and the small HR knowledge base (tests/llm/llm_support.py).

Each module is loaded once, under its own name, so ``from llm_scripted_server import …`` in
tests/llm and this module hand out the same classes.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

LLM_TESTS = Path(__file__).resolve().parent / "llm"


def llm_test_module(name: str) -> Any:
    """The module ``tests/llm/<name>.py``, loaded once and registered under ``name``."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, LLM_TESTS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


scripted_server = llm_test_module("llm_scripted_server")
Script = scripted_server.Script
ScriptedServer = scripted_server.ScriptedServer
DOCS: dict[str, str] = llm_test_module("llm_support").DOCS


@contextmanager
def running_scripted() -> Iterator[Any]:
    """A scripted server started on 127.0.0.1 for the block, stopped after it."""
    server = ScriptedServer().start()
    try:
        yield server
    finally:
        server.stop()
