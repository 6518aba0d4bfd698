"""Everything one running app holds: settings, the runtime (database and facades), auth, jobs,
limits."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from zhiku.accounts import secrets as sec
from zhiku.accounts.store import AccountStore
from zhiku.accounts.throttle import LoginGuard
from zhiku.api.limits import RateLimiter
from zhiku.api.metrics import Metrics
from zhiku.core.settings import Settings
from zhiku.jobs.process import Jobs
from zhiku.runtime import Runtime
from zhiku.sso.oidc import OidcClient
from zhiku.store.db import Database


@dataclass(slots=True)
class ApiState:
    """Built by the lifespan, torn down with it."""

    settings: Settings
    runtime: Runtime
    db: Database  # runtime.db: the process's one database, shared by every store
    auth: AccountStore
    jobs: Jobs
    limiter: RateLimiter
    metrics: Metrics
    guard: LoginGuard
    oidc: OidcClient | None = None  # set when OIDC sign-in is configured
    key_touched: dict[int, float] = field(default_factory=dict)

    @classmethod
    def open(cls, settings: Settings, metrics: Metrics | None = None) -> ApiState:
        """Build the runtime (opening and migrating the database) and wire the parts to it."""
        runtime = Runtime(settings)
        runtime.start_upkeep()  # PostgreSQL: warm its buffers in the background
        db = runtime.db
        cost = sec.HashCost.of(settings)
        sec.dummy_hash(cost)  # computed now: the first sign-in of an unknown e-mail is not slower
        return cls(
            settings=settings,
            runtime=runtime,
            db=db,
            auth=AccountStore(db, cost),
            jobs=Jobs.of(settings, db, runtime, threads=settings.api_job_threads),
            limiter=RateLimiter(settings.api_rate_limit_per_minute),
            metrics=metrics or Metrics(),
            guard=LoginGuard.of(settings),
            oidc=OidcClient.of(settings),
        )

    def touch_key(self, key_id: int) -> None:
        """Record a key's use, at most once a minute per key (a write per request is waste)."""
        now = time.monotonic()
        if now - self.key_touched.get(key_id, -1e9) >= 60.0:
            self.key_touched[key_id] = now
            self.auth.touch_key(key_id)

    def close(self) -> None:
        """Stop the worker and close the runtime (facades, store and database)."""
        self.jobs.stop()
        if self.oidc is not None:
            self.oidc.close()
        self.runtime.close()
