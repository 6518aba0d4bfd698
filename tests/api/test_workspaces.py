"""One runtime per process: the server's per-workspace facades share one database handle (one
SQLite write lock, or one PostgreSQL pool), one store and each embedding model once."""

from __future__ import annotations

import gc

import pytest
from api_helpers import HANDBOOK, make_tenant, wait_job
from fastapi.testclient import TestClient

from zhiku.api.app import create_app
from zhiku.api.state import ApiState
from zhiku.core.errors import NotFound
from zhiku.core.settings import Settings
from zhiku.runtime import Runtime
from zhiku.service import Zhiku


def test_workspaces_share_one_store_and_each_model_once(settings: Settings) -> None:
    ids = []
    for name in ("acme", "globex"):
        with Zhiku(settings, workspace=name) as zk:
            ids.append(zk.workspace_id)
    with Runtime(settings) as runtime:
        acme, globex = (runtime.workspace(i) for i in ids)
        assert acme is not globex and acme.workspace_id != globex.workspace_id
        assert runtime.workspace("acme") is acme  # by name or by id: the same facade
        assert acme.store is globex.store is runtime.store
        assert acme.db is globex.db is runtime.db is runtime.store.db
        assert acme.embedder("hashing") is globex.embedder("hashing")
        assert acme.embedder("hashing") is not acme.embedder("hashing-64")
        # a facade of its own (the Python API) still loads its own
        with Zhiku(settings, workspace="acme") as alone:
            assert alone.embedder("hashing") is not acme.embedder("hashing")
            assert alone.db is not acme.db
        with pytest.raises(NotFound):
            runtime.workspace(max(ids) + 100)


def test_a_standalone_facade_closes_its_runtime_and_a_lent_one_stays_open(
    settings: Settings,
) -> None:
    with Runtime(settings) as runtime:
        lent = runtime.workspace("acme")
        lent.close()  # a facade does not close what the runtime lent it
        assert lent.db.conn.execute("SELECT count(*) FROM workspaces").fetchone()[0] >= 1
        assert lent.db in _live_databases(settings)
    assert _live_databases(settings) == []
    alone = Zhiku(settings, workspace="acme")
    assert alone.runtime.workspace("acme").workspace_id == alone.workspace_id
    assert _live_databases(settings) == [alone.db]
    alone.close()
    assert _live_databases(settings) == []


def _live_databases(settings: Settings) -> list[object]:
    """The open database objects of this process that reach the settings' database."""
    gc.collect()
    if settings.is_postgres:
        from zhiku.store.postgres.db import PgDatabase

        return [o for o in gc.get_objects() if isinstance(o, PgDatabase)
                and o.url == settings.database_url and not o.pool.closed]
    from zhiku.store.sqlite.db import Database as SqliteDatabase

    return [o for o in gc.get_objects() if isinstance(o, SqliteDatabase)
            and o.path == settings.db_path and o._all]


def test_a_running_server_has_one_database_handle(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        tenants = [make_tenant(settings, name) for name in ("acme", "globex")]
        for t in tenants:  # requests and an ingestion job in each workspace
            assert client.post("/v1/kbs", headers=t.headers, json={"name": "hr"}).is_success
            job = client.post("/v1/kbs/hr/documents", headers=t.headers, files=[
                ("files", ("handbook.md", HANDBOOK.encode(), "text/markdown"))]).json()
            assert wait_job(client, t.headers, job["id"])["status"] == "done"
            assert client.post("/v1/search", headers=t.headers,
                               json={"query": "annual leave"}).is_success
        state: ApiState = client.app.state.api  # type: ignore[attr-defined]
        facades = [state.runtime.workspace(t.workspace_id) for t in tenants]
        assert len({id(zk) for zk in facades}) == 2
        for zk in facades:
            assert state.db is zk.db is zk.store.db
        assert state.db is state.runtime.db is state.auth.db is state.jobs.queue.db
        live = _live_databases(settings)
        assert live == [state.db]  # one write lock (SQLite) or one pool (PostgreSQL)
    assert _live_databases(settings) == []  # the lifespan closed it
