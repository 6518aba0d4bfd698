"""The composition root: what one process opens once and every workspace shares.

A ``Runtime`` opens the database the settings name (migrated), builds the document store on
it, and owns the loaded embedding models and the pool of parse worker processes. Every other
store (graph, assistants, conversations, call log, job queue, evaluations) is built on the same
``runtime.db``, so a process has one SQLite write lock, or one PostgreSQL pool, whatever the
number of workspaces and faces. The API server, ``zhiku worker`` and the CLI each build one;
``runtime.workspace(id or name)`` hands out the per-workspace facade.

>>> with Runtime(Settings(home=tmp)) as rt:          # doctest: +SKIP
...     rt.workspace("default").search("handbook", "leave policy")
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from zhiku.core.errors import NotFound
from zhiku.core.settings import Settings
from zhiku.ingest.parsers.registry import ParserRegistry, default_registry
from zhiku.ingest.parsers.sandbox import ParseSandbox, SandboxLimits
from zhiku.models.embedders import Embedders
from zhiku.store.db import Database, open_database
from zhiku.store.protocols import Store

if TYPE_CHECKING:
    from zhiku.service import Zhiku
    from zhiku.store.postgres.upkeep import Upkeep


def sandbox_for(settings: Settings, registry: ParserRegistry | None = None) -> ParseSandbox:
    """Parse worker processes as ``settings`` ask (started on first use)."""
    limits = SandboxLimits(
        workers=settings.parse_workers,
        memory_bytes=settings.parse_memory_bytes,
        timeout=settings.parse_timeout,
    )
    return ParseSandbox(registry or default_registry(), limits)


def store_on(db: Database, settings: Settings) -> Store:
    """The document store of the backend ``db`` belongs to, on ``db``."""
    from zhiku.store.sqlite.db import Database as SqliteDatabase
    from zhiku.store.sqlite.store import SqliteStore

    if isinstance(db, SqliteDatabase):
        return SqliteStore(db, memory_keyword_rows=settings.memory_keyword_rows)
    from zhiku.store.postgres.db import PgDatabase  # the postgres extra
    from zhiku.store.postgres.store import PostgresStore

    if not isinstance(db, PgDatabase):
        raise TypeError(f"no document store for {type(db).__name__}")
    return PostgresStore(db)


class Runtime:
    """One database, one document store, one set of embedders and one parse sandbox, shared by
    the facades of every workspace (each facade is cached and bound to its workspace)."""

    def __init__(self, settings: Settings | None = None) -> None:
        """Open (and migrate) the database ``settings`` name."""
        self.settings = settings or Settings()
        self.db: Database = open_database(self.settings)
        try:
            self.store: Store = store_on(self.db, self.settings)
        except BaseException:
            self.db.close()
            raise
        self.embedders = Embedders(self.settings)
        self._sandbox: ParseSandbox | None = None
        self._open: dict[int, Zhiku] = {}
        self._lock = threading.Lock()
        self.on_job_queued: Callable[[], None] | None = None  # wakes this process's job threads
        self._upkeep: Upkeep | None = None

    @property
    def sandbox(self) -> ParseSandbox:
        """The parse worker processes (created on first use)."""
        with self._lock:
            if self._sandbox is None:
                self._sandbox = sandbox_for(self.settings)
            return self._sandbox

    def workspace(self, ref: int | str = "default") -> Zhiku:
        """The facade of a workspace: by id (which must exist) or by name (created if
        missing). The same object on every call."""
        ws_id = self.store.workspace_id(ref, create=True) if isinstance(ref, str) else ref
        zk = self._open.get(ws_id)
        if zk is not None:
            return zk
        if isinstance(ref, str):
            name = ref
        else:
            row = self.db.conn.execute("SELECT name FROM workspaces WHERE id = ?",
                                       (ref,)).fetchone()
            if row is None:
                raise NotFound(f"workspace {ref} does not exist")
            name = str(row[0])
        from zhiku.service import Zhiku

        with self._lock:
            zk = self._open.get(ws_id)
            if zk is None:
                zk = Zhiku(self.settings, workspace=name, runtime=self)
                self._open[ws_id] = zk
            return zk

    def start_upkeep(self, interval: float = 30.0) -> Upkeep | None:
        """Start the database's background upkeep for a long-running process (the API server,
        ``zhiku worker``): on PostgreSQL, warming its buffers and compacting ``term_df``
        (``store/postgres/upkeep.py``); SQLite has none. The upkeep, or None."""
        from zhiku.store.sqlite.db import Database as SqliteDatabase

        if isinstance(self.db, SqliteDatabase):
            return None
        if self._upkeep is None:
            from zhiku.store.postgres.db import PgDatabase
            from zhiku.store.postgres.upkeep import Upkeep

            if not isinstance(self.db, PgDatabase):
                return None
            self._upkeep = Upkeep(
                self.db, prewarm=self.settings.pg_prewarm,
                prewarm_max_bytes=self.settings.pg_prewarm_max_mb * 2**20, interval=interval,
            )
            self._upkeep.start()
        return self._upkeep

    def job_queued(self) -> None:
        """Wake this process's job threads (a facade queued a job)."""
        if self.on_job_queued is not None:
            self.on_job_queued()

    def forget(self, workspace_id: int) -> None:
        """Close and drop a workspace's facade (the workspace was deleted)."""
        with self._lock:
            zk = self._open.pop(workspace_id, None)
        if zk is not None:
            zk.close()

    def close(self) -> None:
        """Close the facades, the store, the parse workers and, last, the database."""
        with self._lock:
            opened, self._open = list(self._open.values()), {}
            sandbox, self._sandbox = self._sandbox, None
        if self._upkeep is not None:
            self._upkeep.stop()
            self._upkeep = None
        for zk in opened:
            zk.close()
        self.store.close()
        if sandbox is not None:
            sandbox.close()
        self.db.close()

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
