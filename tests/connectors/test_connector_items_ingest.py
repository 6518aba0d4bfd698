"""Items from the Git and SQL connectors go through the ingest pipeline as they are: each
name picks a parser, the metadata is kept and filterable (both backends)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from connector_checks import context

from zhiku.connectors.base import Connector
from zhiku.connectors.registry import connector_spec
from zhiku.ingest.pipeline import SourceItem
from zhiku.service import Zhiku


def _ingest(zk: Zhiku, kb: str, conn: Connector) -> list[str]:
    items = [SourceItem(item.name, data=conn.fetch(item), metadata=item.metadata)
             for item in conn.items()]
    report = zk.ingest_items(kb, items)
    assert [f.status for f in report.files] == ["added"] * len(items)
    return [item.source for item in items]


def test_git_and_sql_items_are_ingested_with_their_metadata(zk: Zhiku, tmp_path: Path):
    from dulwich import porcelain

    zk.create_kb("kb", embedder="hashing")
    repo = tmp_path / "repo"
    with porcelain.init(str(repo)):
        pass
    (repo / "guide").mkdir()
    (repo / "guide" / "vpn.md").write_text("# VPN\n\nThe VPN gateway is vpn.example.com.")
    (repo / "notes.txt").write_text("Printers live on the second floor.")
    porcelain.add(str(repo), [str(repo / "guide" / "vpn.md"), str(repo / "notes.txt")])
    porcelain.commit(str(repo), message=b"docs", author=b"T <t@e.x>", committer=b"T <t@e.x>")
    db = tmp_path / "faq.db"
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("CREATE TABLE faq (id INTEGER, q TEXT, a TEXT, team TEXT)")
        conn.execute("INSERT INTO faq VALUES (1, 'How do I reset my badge?', "
                     "'Ask the front desk.', 'facilities')")

    git = connector_spec("git")
    sql = connector_spec("sql")
    with closing(git.open(git.config_model.model_validate({"url": str(repo)}), {},
                          context())) as source:
        assert _ingest(zk, "kb", source) == ["guide/vpn.md", "notes.txt"]
    options = {"table": "faq", "id_column": "id", "mode": "faq", "question_column": "q",
               "answer_column": "a", "metadata_columns": ["team"]}
    with closing(sql.open(sql.config_model.model_validate(options), {"url": f"sqlite:///{db}"},
                          context())) as source:
        assert _ingest(zk, "kb", source) == ["faq/1.md"]

    hit = zk.search("kb", "VPN gateway")[0]
    assert hit.source == "guide/vpn.md" and hit.title == "VPN"
    badge = zk.search("kb", "badge reset", filters={"metadata": {"team": "facilities"}})
    assert [h.source for h in badge] == ["faq/1.md"]
    assert "Ask the front desk." in badge[0].text
    assert zk.document("kb", "notes.txt").metadata["path"] == "notes.txt"
