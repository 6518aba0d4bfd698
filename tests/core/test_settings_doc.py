"""Every setting is documented, and the document is up to date."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from zhiku.core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_every_setting_has_a_description() -> None:
    missing = [name for name, f in Settings.model_fields.items() if not f.description]
    assert missing == []


def test_settings_doc_is_current() -> None:
    spec = importlib.util.spec_from_file_location("settings_doc", ROOT / "scripts/settings_doc.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (ROOT / "docs/settings.md").read_text() == module.render(), (
        "docs/settings.md is stale: run python scripts/settings_doc.py"
    )


def test_settings_read_the_environment(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ZHIKU_HOME", str(tmp_path))
    monkeypatch.setenv("ZHIKU_TOP_K", "7")
    settings = Settings()
    assert settings.home == tmp_path
    assert settings.top_k == 7
    assert settings.db_path == tmp_path / "zhiku.db"
