"""Releases of one workspace's apps (assistants, workflows, agents): bind an eval set, score
drafts beside live, publish behind the gate (or forced, on the record), roll back, and gate the
live version on demand.

Scorecards are eval runs (``zhiku.evals.runs``) stored with the fingerprint of what they
measured; a run is reused while its configuration, set and corpus are unchanged. Comparisons
are ``zhiku.evals.compare``'s paired bootstrap, candidate minus baseline.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from zhiku.core.errors import Conflict, InvalidInput
from zhiku.evals import compare, runs, sets
from zhiku.evals.compare import MetricDelta
from zhiku.evals.store import EvalStore
from zhiku.evals.targets import EvalTarget
from zhiku.releases import verdict
from zhiku.releases.fingerprint import config_hash, set_hash
from zhiku.releases.store import AppKey, Binding, Fingerprint, ReleaseRecord, ReleaseStore
from zhiku.releases.subjects import Subject, Subjects, knowledge_bases, not_bound
from zhiku.store.db import Connection

TargetFactory = Callable[[Subject, BaseModel, str], EvalTarget]
"""(app, configuration, label) → the eval target answering with that configuration."""
CorpusHash = Callable[[Sequence[str]], str]
"""Knowledge base names → the fingerprint of their current contents."""


@dataclass(slots=True)
class Side:
    """One configuration's scorecard: its label (``draft``, ``v3``), its run, and whether the
    run was a stored one reused."""

    label: str
    run: runs.RunRecord
    reused: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: the run's id and summary (metrics, latency, tokens, cost)."""
        return {"label": self.label, "run_id": self.run.id, "reused": self.reused,
                "target": self.run.target, "summary": self.run.summary}


@dataclass(slots=True)
class Scorecard:
    """A candidate beside a baseline on the bound set: every shared metric's delta
    (candidate − baseline) with its interval, the primary metrics, and those regressed.
    ``baseline`` is None when there is nothing to compare with (never published)."""

    app: str
    set_name: str
    candidate: Side
    baseline: Side | None
    primary: list[str] = field(default_factory=list)
    deltas: list[MetricDelta] = field(default_factory=list)
    regressions: list[MetricDelta] = field(default_factory=list)
    config: BaseModel | None = None

    @property
    def passed(self) -> bool:
        """No primary metric is worse beyond its interval."""
        return not self.regressions

    def message(self) -> str:
        """What is worse, one metric after another (empty when it passed)."""
        if not self.regressions:
            return ""
        base = self.baseline.label if self.baseline else "live"
        return (f"{self.candidate.label} is worse than {base} on '{self.set_name}': "
                + "; ".join(verdict.describe(d) for d in self.regressions))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (intervals of metrics without pairs are NaN)."""
        return {
            "app": self.app, "eval_set": self.set_name, "passed": self.passed,
            "candidate": self.candidate.to_dict(),
            "baseline": None if self.baseline is None else self.baseline.to_dict(),
            "primary": list(self.primary),
            "deltas": [verdict.delta_dict(d) for d in self.deltas],
            "regressions": [verdict.delta_dict(d) for d in self.regressions],
        }


class Releases:
    """Provable releases of the workspace's apps."""

    def __init__(self, apps: Subjects, evals: EvalStore, target: TargetFactory,
                 corpus: CorpusHash) -> None:
        self._apps = apps
        self._evals = evals
        self._target = target
        self._corpus = corpus
        self.store = ReleaseStore(evals.db)

    # -- binding ----------------------------------------------------------------------------
    def bind(self, app: str, eval_set: str, *, top_k: int = 10,
             metrics: Sequence[str] = ()) -> Binding:
        """Check ``app``'s releases on ``eval_set`` (questioned ``top_k`` deep); ``metrics``:
        the primary metrics (default: the deepest nDCG, refusal, F1, citation recall)."""
        subject = self._apps.get(app)
        self._apps.check_chat_shaped(subject)  # eval questions are chat messages
        sets.questions(self._evals, eval_set)  # NotFound now, not at the first publish
        if not 1 <= top_k <= 100:
            raise InvalidInput("top_k is 1 to 100")
        names = [m.strip() for m in metrics if m.strip()]
        verdict.check_metrics(names, top_k)
        self.store.bind(subject.key, Binding(eval_set, top_k, list(dict.fromkeys(names))))
        found = self.store.binding(subject.key)
        assert found is not None
        return found

    def unbind(self, app: str) -> None:
        """Publish ``app`` without checks again."""
        self.store.unbind(self._apps.get(app).key)

    def binding(self, app: str) -> Binding | None:
        """The eval set ``app`` is bound to, if any."""
        return self.store.binding(self._apps.get(app).key)

    def _bound(self, subject: Subject) -> Binding:
        found = self.store.binding(subject.key)
        if found is None:
            raise not_bound(subject)
        return found

    # -- scorecards -------------------------------------------------------------------------
    def _fingerprint(self, config: BaseModel, binding: Binding) -> Fingerprint:
        questions = sets.questions(self._evals, binding.set_name)
        return Fingerprint(config_hash(config), set_hash(questions, _options(binding)),
                           self._corpus(knowledge_bases(config)))

    def _side(self, subject: Subject, config: BaseModel, label: str,
              binding: Binding, *, reuse: bool = True) -> Side:
        """The scorecard of ``config``: a stored run of the same fingerprint that left out as
        many questions as a run by the current reader would, or a new one."""
        fp = self._fingerprint(config, binding)
        if reuse:
            stored = self.store.scorecard(subject.key, fp)
            if stored is not None:
                found = runs.get_run(self._evals, stored)
                if runs.withheld_count(found) == runs.left_out(self._evals, binding.set_name):
                    return Side(label, found, reused=True)
        target = self._target(subject, config, label)
        run = runs.run_eval(self._evals, target, binding.set_name, _options(binding))
        self.store.add_scorecard(subject.key, run.id, fp)
        return Side(label, run)

    def _compare(self, app: str, binding: Binding, candidate: Side, baseline: Side | None,
                 config: BaseModel | None = None) -> Scorecard:
        card = Scorecard(app, binding.set_name, candidate, baseline, config=config)
        if baseline is None:
            return card
        before = runs.results(self._evals, baseline.run.id)
        after = runs.results(self._evals, candidate.run.id)
        cmp = compare.compare_results(baseline.run.id, before, candidate.run.id, after)
        errors = verdict.error_delta(before, after)
        if errors is not None:
            cmp.deltas.append(errors)
        card.deltas = cmp.deltas
        card.primary = verdict.primary_metrics([d.metric for d in cmp.deltas], binding.metrics)
        card.regressions = verdict.regressions(cmp, card.primary)
        return card

    def scorecard(self, app: str) -> Scorecard:
        """The draft's scorecard beside the live version's, on the bound set (runs what is
        not stored yet for the current configuration, set and corpus)."""
        subject = self._apps.get(app)
        binding = self._bound(subject)
        draft = subject.draft
        candidate = self._side(subject, draft, "draft", binding)
        baseline = None
        if subject.published is not None:
            baseline = self._side(subject, subject.published,
                                  f"v{subject.published_version}", binding)
        return self._compare(subject.slug, binding, candidate, baseline, draft)

    # -- publishing -------------------------------------------------------------------------
    def publish(self, app: str, note: str | None = None, *, force: bool = False,
                reason: str | None = None, actor: str | None = None) -> int:
        """Publish the draft; for a bound app only if its scorecard shows no primary
        metric worse than live beyond the interval (``Conflict`` naming each such metric,
        its two values and the interval). ``force`` (with a ``reason``) publishes anyway and
        records ``actor`` and the reason with the version. Returns the version number."""
        subject = self._apps.get(app)
        binding = self.store.binding(subject.key)
        if binding is None:
            return self._apps.publish(subject, note)
        if force and not (reason or "").strip():
            raise InvalidInput("forcing a publish needs a reason")
        card = self.scorecard(subject.slug)
        if not card.passed and not force:
            raise Conflict(
                f"refused: {card.message()}; force it with a reason to publish anyway",
                regressions=[verdict.delta_dict(d) for d in card.regressions],
            )
        forced = not card.passed

        def record(conn: Connection, app_id: int, version: int) -> None:
            ReleaseStore.record(conn, (subject.kind, app_id), ReleaseRecord(
                version=version, set_name=binding.set_name,
                scorecard_run_id=card.candidate.run.id,
                compared_run_id=card.baseline.run.id if card.baseline else None,
                regressions=[verdict.delta_dict(d) for d in card.regressions],
                forced_by=(actor or "unknown") if forced else None,
                force_reason=reason.strip() if forced and reason else None,
            ))

        return self._apps.publish(subject, note, expect=card.config, on_publish=record)

    def rollback(self, app: str, version: int | None = None) -> int:
        """Make an earlier version live again (default: the one before the live one)."""
        return self._apps.rollback(app, version)

    def versions(self, app: str) -> list[dict[str, Any]]:
        """The published versions, newest first, each with ``release``: what its publish was
        checked against and who forced it (None when it was published unbound)."""
        subject = self._apps.get(app)
        records = self.store.records(subject.key)
        out = []
        for v in self._apps.versions(subject):
            rec = records.get(int(v["version"]))
            out.append({**v, "live": v["version"] == subject.published_version,
                        "release": None if rec is None else rec.to_dict()})
        return out

    # -- the gate on the live version -------------------------------------------------------
    def gate(self, app: str) -> Scorecard:
        """Run the bound set on the live version now (never reusing a run) and compare it with
        the live version's stored scorecard: after a model, a knowledge base or Zhiku changed
        under it. Without a stored scorecard (published before it was bound, or the set
        changed since) this run becomes it and the result has no baseline."""
        subject = self._apps.get(app)
        binding = self._bound(subject)
        if subject.published is None or subject.published_version is None:
            raise Conflict(f"{subject.kind} '{subject.slug}' has no published version to gate")
        version = subject.published_version
        label = f"v{version}"
        fp = self._fingerprint(subject.published, binding)
        baseline_id = self._baseline(subject.key, version, fp)
        now = self._side(subject, subject.published, label, binding, reuse=False)
        now.label = f"{label} now"
        if baseline_id is None:
            self.store.set_baseline(subject.key, version, binding.set_name, now.run.id)
            return self._compare(subject.slug, binding, now, None)
        baseline = Side(f"{label} stored", runs.get_run(self._evals, baseline_id), reused=True)
        return self._compare(subject.slug, binding, now, baseline)

    def _baseline(self, app: AppKey, version: int, fp: Fingerprint) -> int | None:
        """The run recorded for ``version`` when it measured this configuration and set, else
        the newest stored run of them over any corpus."""
        rec = self.store.records(app).get(version)
        if rec is not None and rec.scorecard_run_id is not None:
            measured = self.store.measured_on(app, rec.scorecard_run_id)
            if measured is not None and (measured.config, measured.set) == (fp.config, fp.set):
                return rec.scorecard_run_id
        return self.store.scorecard(app, fp, any_corpus=True)


def _options(binding: Binding) -> runs.RunOptions:
    return runs.RunOptions(top_k=binding.top_k, with_answer=True)
