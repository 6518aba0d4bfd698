"""A third-party connector found through the ``zhiku.connectors`` entry point (a real
distribution's metadata on sys.path) is synced like a built-in one: it gets its secrets
decrypted, its items' metadata (dates included) reach the documents, a client error on one
item fails that item alone, and a listing that breaks midway removes nothing."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from zhiku.core.settings import Settings
from zhiku.service import Zhiku

PLUGIN = '''
"""A connector over a JSON file: {"items": {id: text}, "broken": [ids], "fail_listing": bool}."""
import datetime, json
from pathlib import Path
from pydantic import BaseModel
from zhiku.connectors.base import ConnectorSpec, SourceItem


class Config(BaseModel):
    file: str


class Memo:
    def __init__(self, config, secrets, context):
        self.state = json.loads(Path(config.file).read_text())
        self.token = secrets.get("token")

    def items(self):
        for n, (key, text) in enumerate(sorted(self.state["items"].items())):
            if self.state.get("fail_listing") and n == 1:
                raise RuntimeError("the memo server went away")
            yield SourceItem(id=key, version=str(hash(text)), name=f"{key}.md",
                             metadata={"owner": self.token,
                                       "modified": datetime.datetime(2026, 1, 2, 3, 4)})

    def fetch(self, item):
        if item.id in self.state.get("broken", []):
            raise RuntimeError(f"cannot download {item.id}")
        return self.state["items"][item.id].encode()

    def close(self):
        pass


SPEC = ConnectorSpec(kind="memo", config_model=Config, open=Memo, secret_fields=("token",),
                     description="memos in a JSON file")
'''


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    site = tmp_path / "site"
    dist = site / "zhiku_memo-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: zhiku-memo\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[zhiku.connectors]\nmemo = zhiku_memo:SPEC\n")
    (site / "zhiku_memo.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(site))
    yield site
    sys.modules.pop("zhiku_memo", None)


@pytest.fixture
def zk(zhiku_home: Path) -> Iterator[Zhiku]:
    with Zhiku(Settings(home=zhiku_home, embedder="hashing", parse_workers=0)) as service:
        service.create_kb("kb")
        yield service


def test_a_plugin_connector_syncs_like_a_built_in_one(zk: Zhiku, plugin: Path,
                                                      tmp_path: Path) -> None:
    state = tmp_path / "memos.json"

    def memos(**data: object) -> None:
        state.write_text(json.dumps(data))

    memos(items={"a": "# A\n\nFirst memo.", "b": "# B\n\nSecond memo.", "c": "# C\n\nThird."},
          broken=["b"])
    assert "memo" in {k["kind"] for k in zk.sources.kinds() if k["available"]}
    zk.sources.add("kb", "memos", "memo", {"file": str(state)}, {"token": "tok-owner"})
    run = zk.sources.sync("memos", wait=True)
    assert (run.status, run.added, run.failed) == ("done", 2, 1)
    assert run.errors == [{"item": "b", "error": "RuntimeError: cannot download b"}]
    doc = zk.document("kb", "memo:memos/a")
    assert doc.metadata["owner"] == "tok-owner"
    assert doc.metadata["modified"] == "2026-01-02 03:04:00"

    memos(items={"a": "# A\n\nFirst memo.", "b": "# B\n\nSecond memo."}, fail_listing=True)
    broken = zk.sources.sync("memos", wait=True)
    assert broken.status == "failed"
    assert broken.error == "listing the source failed: RuntimeError: the memo server went away"
    assert {d.source for d in zk.documents("kb")} == {"memo:memos/a", "memo:memos/c"}

    memos(items={"a": "# A\n\nFirst memo.", "b": "# B\n\nSecond memo."})
    mended = zk.sources.sync("memos", wait=True)
    assert (mended.status, mended.added, mended.removed, mended.unchanged) == ("done", 1, 1, 1)
    assert {d.source for d in zk.documents("kb")} == {"memo:memos/a", "memo:memos/b"}
