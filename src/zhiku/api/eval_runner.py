"""Eval runs started over HTTP: each runs on its own daemon thread (``runs.run_eval``, the same
run the CLI makes), and the request returns as soon as the run's row exists.

``run_eval`` inserts the run before its first question, so the starter waits for a new row of
that set and target to appear. Starts are serialised, so two runs started at once through the
API cannot swap ids.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from zhiku.core.errors import ZhikuError
from zhiku.evals import runs
from zhiku.evals.targets import EvalTarget

if TYPE_CHECKING:
    from zhiku.service import Zhiku

WAIT_S = 15.0
_STARTING = threading.Lock()


class _Outcome:
    """What the thread reports: its run, or the error that stopped it before a run existed."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.record: runs.RunRecord | None = None
        self.error: BaseException | None = None


def _newest(zk: Zhiku, set_name: str, target: str, after: int) -> int | None:
    row = zk.db.conn.execute(
        "SELECT min(id) FROM eval_runs WHERE workspace_id = ? AND set_name = ? AND target = ? "
        "AND id > ?", (zk.workspace_id, set_name, target, after),
    ).fetchone()
    return None if row is None or row[0] is None else int(row[0])


def _last_id(zk: Zhiku) -> int:
    row = zk.db.conn.execute(
        "SELECT max(id) FROM eval_runs WHERE workspace_id = ?", (zk.workspace_id,)
    ).fetchone()
    return int(row[0] or 0) if row is not None else 0


def start(zk: Zhiku, target: EvalTarget, set_name: str, options: runs.RunOptions) -> int:
    """Start a run in the background; returns its id once stored. An error raised before the
    run exists (say, an empty tag selection) is raised here."""
    outcome = _Outcome()

    def work() -> None:
        try:
            outcome.record = runs.run_eval(zk, target, set_name, options)
        except BaseException as exc:  # reported to the starter (or stored by run_eval)
            outcome.error = exc
        finally:
            outcome.done.set()

    with _STARTING:
        floor = _last_id(zk)
        threading.Thread(target=work, name=f"eval-run-{set_name}", daemon=True).start()
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            found = _newest(zk, set_name, target.name, floor)
            if found is not None:
                return found
            if outcome.done.wait(0.05):
                if outcome.record is not None:
                    return outcome.record.id
                if isinstance(outcome.error, ZhikuError):
                    raise outcome.error
                raise ZhikuError(f"the run failed to start: {outcome.error}")
    raise ZhikuError("the run did not start in time; see the server log")
