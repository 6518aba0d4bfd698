"""Where a workspace's evaluation data lives: eval sets, questions, runs and their results, in
tables of the core's database."""

from __future__ import annotations

from dataclasses import dataclass

from zhiku.store.db import Database


@dataclass(frozen=True, slots=True)
class EvalStore:
    """The evaluation tables of one workspace (``workspace_id``) in ``db``."""

    db: Database
    workspace_id: int
