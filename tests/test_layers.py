"""Imports only point down: every ``zhiku`` import (TYPE_CHECKING and function-level imports
included) is read from the source and checked against the rooms' order. No database."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "zhiku"

FACES = frozenset({"service", "api", "cli", "mcp"})
"""The facade and the faces over it: no room of the core imports them."""

ONLY: dict[str, frozenset[str]] = {
    "core": frozenset(),
    "text": frozenset({"core"}),
    "store": frozenset({"core", "text"}),
    "models": frozenset({"core", "text"}),
    "audit": frozenset({"core", "store"}),
}
"""Rooms at the bottom, with the only other rooms they may import."""

CORE_ROOMS = ("retrieval", "ingest", "graph", "answer", "chat", "evals", "apps", "jobs",
              "accounts", "releases", "backup", "share", "permissions", "sso")
"""Rooms above the bottom that still never import the facade or a face."""

ALLOWED: dict[tuple[str, str], str] = {
    ("jobs/handlers.py", "service"): "a job runs a workspace's ingestion or eval run through "
                                     "that workspace's facade (typed, not imported at run time)",
    ("jobs/submit.py", "service"): "zk.jobs reads the facade's knowledge bases and eval targets "
                                   "(typed, not imported at run time)",
    ("evals/feedback.py", "service"): "the answer log gets narrow dependencies on its own branch",
    ("evals/app_target.py", "service"): "the assistant target gets narrow dependencies on its "
                                        "own branch",
    ("evals/app_run_target.py", "service"): "the workflow and agent targets run an app through "
                                            "its workspace's facade (typed, not imported at "
                                            "run time), like the assistant target",
}
"""Known upward imports, each with the reason it is tolerated for now (module, room)."""


def room_of(path: Path) -> str:
    """``graph`` for ``src/zhiku/graph/ops.py``, ``service`` for ``src/zhiku/service.py``."""
    rel = path.relative_to(SRC)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def imported_rooms(path: Path) -> Iterator[str]:
    """The room of every absolute ``zhiku.*`` import in ``path``, wherever it appears."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
            if node.module == "zhiku":  # from zhiku import service
                names = [f"zhiku.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "zhiku" and len(parts) > 1:
                yield parts[1]


def forbidden(room: str, target: str) -> bool:
    """Whether code in ``room`` may not import ``target``."""
    if target == room:
        return False
    if room in ONLY:
        return target not in ONLY[room]
    if room in CORE_ROOMS:
        return target in FACES
    if room == "cli":
        return target == "api"
    if room == "api":
        return target == "cli"
    return False


def upward_imports() -> dict[tuple[str, str], None]:
    """Every ``(module, room)`` pair that breaks the order (module relative to the package)."""
    found: dict[tuple[str, str], None] = {}
    for path in sorted(SRC.rglob("*.py")):
        room = room_of(path)
        for target in imported_rooms(path):
            if forbidden(room, target):
                found[(path.relative_to(SRC).as_posix(), target)] = None
    return found


def test_imports_only_point_down() -> None:
    found = upward_imports()
    unexpected = sorted(set(found) - set(ALLOWED))
    assert unexpected == [], "upward imports: " + ", ".join(f"{m} -> {r}" for m, r in unexpected)


def test_every_allowed_upward_import_still_exists() -> None:
    """An entry whose import is gone must leave the list, so the list only shrinks."""
    found = upward_imports()
    assert sorted(set(ALLOWED) - set(found)) == []


def test_the_scan_sees_type_checking_and_lazy_imports(tmp_path: Path) -> None:
    module = tmp_path / "probe.py"
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from zhiku.service import Zhiku\n"
        "def f():\n    import zhiku.api.app\n    from zhiku import cli\n",
        encoding="utf-8",
    )
    assert sorted(imported_rooms(module)) == ["api", "cli", "service"]
    assert forbidden("graph", "service") and forbidden("store", "models")
    assert forbidden("cli", "api") and not forbidden("cli", "service")


def test_every_zhiku_import_names_a_module_that_exists() -> None:
    """Imports inside functions and under TYPE_CHECKING run late or never, so a module that
    moved would otherwise fail only when that path runs (mypy is told to tolerate missing
    third-party modules, which would hide it too)."""
    import importlib.util

    missing = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                if name.split(".")[0] == "zhiku" and importlib.util.find_spec(name) is None:
                    missing.append(f"{path.relative_to(SRC).as_posix()}: {name}")
    assert missing == []
