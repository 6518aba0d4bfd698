"""The release tables: an app's eval-set binding, the stored scorecards (kept for reuse) and
what each publish was checked against. Rows are keyed by ``AppKey``: the app's kind and its id
in that kind's table."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from zhiku.store.db import Connection, Database, Row

AppKey = tuple[str, int]
"""(app kind, app id): ``("assistant", 3)``, ``("workflow", 1)``, ``("agent", 2)``."""


@dataclass(slots=True)
class Binding:
    """The eval set an app's releases are checked on, the run depth, and the primary
    metrics (empty: the defaults, see ``verdict.primary_metrics``)."""

    set_name: str
    top_k: int = 10
    metrics: list[str] = field(default_factory=list)
    created_at: str = ""
    updated_at: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"eval_set": self.set_name, "top_k": self.top_k, "metrics": list(self.metrics),
                "created_at": self.created_at, "updated_at": self.updated_at}


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What a scorecard was measured on (see ``fingerprint``)."""

    config: str
    set: str
    corpus: str


@dataclass(slots=True)
class ReleaseRecord:
    """What publishing a version was checked against, and who forced it past a regression."""

    version: int
    set_name: str
    scorecard_run_id: int | None
    compared_run_id: int | None
    regressions: list[dict[str, Any]]
    forced_by: str | None
    force_reason: str | None
    created_at: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (without the version, which the version record holds)."""
        return {"eval_set": self.set_name, "scorecard_run": self.scorecard_run_id,
                "compared_run": self.compared_run_id, "regressions": self.regressions,
                "forced_by": self.forced_by, "force_reason": self.force_reason,
                "created_at": self.created_at}


class ReleaseStore:
    """Bindings, scorecards and release records of one workspace's apps (by kind and id; the
    app tables are the workspace's own)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # -- bindings ---------------------------------------------------------------------------
    def bind(self, app: AppKey, binding: Binding) -> None:
        """Bind (or re-bind) an app to an eval set."""
        with self._db.write() as conn:
            conn.execute(
                "INSERT INTO release_bindings (app_kind, app_id, set_name, top_k, metrics) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (app_kind, app_id) DO UPDATE SET "
                "set_name = excluded.set_name, top_k = excluded.top_k, "
                f"metrics = excluded.metrics, updated_at = {self._db.now}",
                (*app, binding.set_name, binding.top_k, json.dumps(binding.metrics)),
            )

    def unbind(self, app: AppKey) -> None:
        """Publish the app without checks again."""
        with self._db.write() as conn:
            conn.execute("DELETE FROM release_bindings WHERE app_kind = ? AND app_id = ?", app)

    def binding(self, app: AppKey) -> Binding | None:
        """The app's binding, if any."""
        row = self._db.conn.execute(
            "SELECT * FROM release_bindings WHERE app_kind = ? AND app_id = ?", app
        ).fetchone()
        if row is None:
            return None
        return Binding(row["set_name"], int(row["top_k"]), json.loads(row["metrics"]),
                       row["created_at"], row["updated_at"])

    # -- scorecards -------------------------------------------------------------------------
    def add_scorecard(self, app: AppKey, run_id: int, fp: Fingerprint) -> None:
        """Keep a finished run as the scorecard of ``fp``."""
        with self._db.write() as conn:
            conn.execute(
                "INSERT INTO release_scorecards (app_kind, app_id, run_id, config_hash, "
                "set_hash, corpus_hash) VALUES (?, ?, ?, ?, ?, ?)",
                (*app, run_id, fp.config, fp.set, fp.corpus),
            )

    def scorecard(self, app: AppKey, fp: Fingerprint, *, any_corpus: bool = False
                  ) -> int | None:
        """The newest finished run stored for ``fp`` (``any_corpus``: of the same
        configuration and set over whatever corpus), or None."""
        sql = ("SELECT s.run_id FROM release_scorecards s JOIN eval_runs r ON r.id = s.run_id "
               "WHERE s.app_kind = ? AND s.app_id = ? AND s.config_hash = ? AND s.set_hash = ? "
               "AND r.status = 'done'")
        args: list[Any] = [*app, fp.config, fp.set]
        if not any_corpus:
            sql += " AND s.corpus_hash = ?"
            args.append(fp.corpus)
        row = self._db.conn.execute(sql + " ORDER BY s.id DESC LIMIT 1", args).fetchone()
        return None if row is None else int(row["run_id"])

    def measured_on(self, app: AppKey, run_id: int) -> Fingerprint | None:
        """The fingerprint a stored scorecard run was measured on."""
        row = self._db.conn.execute(
            "SELECT config_hash, set_hash, corpus_hash FROM release_scorecards "
            "WHERE app_kind = ? AND app_id = ? AND run_id = ? ORDER BY id DESC LIMIT 1",
            (*app, run_id),
        ).fetchone()
        if row is None:
            return None
        return Fingerprint(row["config_hash"], row["set_hash"], row["corpus_hash"])

    # -- release records --------------------------------------------------------------------
    @staticmethod
    def record(conn: Connection, app: AppKey, rec: ReleaseRecord) -> None:
        """Store (or replace) the record of a version, inside the caller's transaction."""
        conn.execute(
            "INSERT INTO release_records (app_kind, app_id, version, set_name, "
            "scorecard_run_id, compared_run_id, regressions, forced_by, force_reason) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (app_kind, app_id, version) DO UPDATE SET "
            "set_name = excluded.set_name, scorecard_run_id = excluded.scorecard_run_id, "
            "compared_run_id = excluded.compared_run_id, regressions = excluded.regressions, "
            "forced_by = excluded.forced_by, force_reason = excluded.force_reason",
            (*app, rec.version, rec.set_name, rec.scorecard_run_id,
             rec.compared_run_id, json.dumps(rec.regressions), rec.forced_by,
             rec.force_reason),
        )

    def set_baseline(self, app: AppKey, version: int, set_name: str, run_id: int) -> None:
        """Make ``run_id`` the stored scorecard of a version published before its binding."""
        with self._db.write() as conn:
            conn.execute(
                "INSERT INTO release_records (app_kind, app_id, version, set_name, "
                "scorecard_run_id) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (app_kind, app_id, version) "
                "DO UPDATE SET set_name = excluded.set_name, "
                "scorecard_run_id = excluded.scorecard_run_id",
                (*app, version, set_name, run_id),
            )

    def records(self, app: AppKey) -> dict[int, ReleaseRecord]:
        """Every version's record, by version number."""
        rows = self._db.conn.execute(
            "SELECT * FROM release_records WHERE app_kind = ? AND app_id = ?", app
        ).fetchall()
        return {int(r["version"]): _record(r) for r in rows}


def _record(row: Row) -> ReleaseRecord:
    return ReleaseRecord(
        version=int(row["version"]), set_name=row["set_name"],
        scorecard_run_id=row["scorecard_run_id"], compared_run_id=row["compared_run_id"],
        regressions=json.loads(row["regressions"]), forced_by=row["forced_by"],
        force_reason=row["force_reason"], created_at=row["created_at"],
    )
