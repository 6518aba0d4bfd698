"""How the database is named in output and logs: never with its password."""

from __future__ import annotations

from pathlib import Path

from zhiku.core.settings import Settings, mask_url_password


def test_passwords_are_masked_in_user_info_and_query() -> None:
    assert (mask_url_password("postgresql://zk:s3cr%40t@db.example:5433/zhiku?sslmode=require")
            == "postgresql://zk:***@db.example:5433/zhiku?sslmode=require")
    assert (mask_url_password("postgresql:///zhiku?host=/run/pg&password=s3cret")
            == "postgresql:///zhiku?host=/run/pg&password=***")
    assert mask_url_password("postgresql://zk@db/zhiku") == "postgresql://zk@db/zhiku"


def test_kind_and_display(tmp_path: Path) -> None:
    lite = Settings(home=tmp_path, database_url=None)
    assert (lite.database_kind, lite.database_display) == ("sqlite", str(tmp_path / "zhiku.db"))
    pg = Settings(home=tmp_path, database_url="postgres://u:pw@h/db")
    assert (pg.database_kind, pg.database_display) == ("postgresql", "postgres://u:***@h/db")
