"""One ``Zhiku`` facade per workspace, opened on first use and shared by requests and jobs."""

from __future__ import annotations

import threading
from collections.abc import Callable

from zhiku.core.settings import Settings
from zhiku.models.embedders import Embedders
from zhiku.service import Zhiku, sandbox_for
from zhiku.store.db import Database
from zhiku.store.open import open_store
from zhiku.store.protocols import Store


class Workspaces:
    """Caches the per-workspace facades (each is bound to one workspace). They share one store
    (one connection pool, one derived keyword index) and one set of loaded embedding models,
    and one pool of parse worker processes, whatever the number of workspaces."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self._settings = settings
        self._db = db
        self._open: dict[int, Zhiku] = {}
        self._store: Store | None = None
        self._embedders = Embedders(settings)
        self._sandbox = sandbox_for(settings)
        self._lock = threading.Lock()
        self.on_job_queued: Callable[[], None] | None = None  # wakes this process's job threads

    def get(self, workspace_id: int) -> Zhiku:
        """The facade of workspace ``workspace_id`` (which must exist)."""
        zk = self._open.get(workspace_id)
        if zk is not None:
            return zk
        with self._lock:
            zk = self._open.get(workspace_id)
            if zk is None:
                row = self._db.conn.execute(
                    "SELECT name FROM workspaces WHERE id = ?", (workspace_id,)
                ).fetchone()
                if row is None:
                    raise KeyError(workspace_id)
                if self._store is None:
                    self._store = open_store(self._settings)
                zk = Zhiku(self._settings, workspace=row[0], store=self._store,
                           embedders=self._embedders, sandbox=self._sandbox)
                zk.jobs.on_queued = self._job_queued
                self._open[workspace_id] = zk
            return zk

    def _job_queued(self) -> None:
        if self.on_job_queued is not None:
            self.on_job_queued()

    def forget(self, workspace_id: int) -> None:
        """Close and drop a facade (its workspace was deleted)."""
        with self._lock:
            zk = self._open.pop(workspace_id, None)
        if zk is not None:
            zk.close()

    def close(self) -> None:
        """Close every facade."""
        with self._lock:
            opened, self._open = list(self._open.values()), {}
            store, self._store = self._store, None
        for zk in opened:
            zk.close()
        if store is not None:
            store.close()
        self._sandbox.close()
