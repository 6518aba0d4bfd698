"""The server's per-workspace facades share what is per process: the store and the models."""

from __future__ import annotations

from zhiku.core.settings import Settings
from zhiku.service import Zhiku
from zhiku.store.db import open_database
from zhiku.workspaces import Workspaces


def test_workspaces_share_one_store_and_each_model_once(settings: Settings) -> None:
    ids = []
    for name in ("acme", "globex"):
        with Zhiku(settings, workspace=name) as zk:
            ids.append(zk.workspace_id)
    db = open_database(settings)
    services = Workspaces(settings, db)
    try:
        acme, globex = (services.get(i) for i in ids)
        assert acme is not globex and acme.workspace_id != globex.workspace_id
        assert acme.store is globex.store
        assert acme.embedder("hashing") is globex.embedder("hashing")
        assert acme.embedder("hashing") is not acme.embedder("hashing-64")
        # a facade of its own (the Python API) still loads its own
        with Zhiku(settings, workspace="acme") as alone:
            assert alone.embedder("hashing") is not acme.embedder("hashing")
    finally:
        services.close()
        db.close()
