"""Where a workspace's evaluation data lives: eval sets, questions, runs and their results, in
tables of the core's database."""

from __future__ import annotations

from dataclasses import dataclass

from zhiku.evals.withhold import PassageScope
from zhiku.store.db import Database


@dataclass(frozen=True, slots=True)
class EvalStore:
    """The evaluation tables of one workspace (``workspace_id``) in ``db``, and the documents
    (``passages``) that decide who may see a stored result's passages."""

    db: Database
    workspace_id: int
    passages: PassageScope
