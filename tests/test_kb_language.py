"""The embedder of a new knowledge base follows its documents' language; what a knowledge base
whose embedder does not read Chinese tells its users."""

from __future__ import annotations

from pathlib import Path

import pytest

from zhiku.core.extras import has_extra
from zhiku.core.settings import Settings
from zhiku.kb_language import chinese_retrieval, choose_embedder, query_warning, retrieval_note
from zhiku.kb_settings import check_kb_settings, parse_setting
from zhiku.models.embedders.catalog import MULTILINGUAL, catalog

MULTI = has_extra("multilingual")


def test_chinese_and_mixed_content_get_the_multilingual_embedder(tmp_path: Path) -> None:
    default = Settings(home=tmp_path)
    want = MULTILINGUAL if MULTI else "minilm"
    assert choose_embedder(default, "zh") == want
    assert choose_embedder(default, "auto") == want
    assert choose_embedder(default, "en") == "minilm"
    assert choose_embedder(default, None) == "minilm"  # no hint: the server's default


def test_an_operators_embedder_is_every_languages_default(tmp_path: Path) -> None:
    chosen = Settings(home=tmp_path, embedder="hashing")
    assert {choose_embedder(chosen, lang) for lang in ("zh", "en", "auto", None)} == {"hashing"}


def test_keyword_only_chinese_is_said_plainly() -> None:
    assert chinese_retrieval(MULTILINGUAL) == "semantic" and retrieval_note(MULTILINGUAL) is None
    assert chinese_retrieval("minilm") == "keyword"
    note = retrieval_note("minilm")
    assert note is not None and "keywords only" in note and "minilm" in note
    assert ("zhiku[multilingual]" in note) is not MULTI
    warning = query_warning("年假有几天", {"hr": "minilm", "zh": MULTILINGUAL})
    assert warning is not None and "hr" in warning and "zh," not in warning
    assert query_warning("annual leave", {"hr": "minilm"}) is None
    assert query_warning("年假有几天", {"zh": MULTILINGUAL}) is None


def test_language_is_a_checked_setting() -> None:
    assert check_kb_settings({"language": "zh"}) == {"language": "zh"}
    assert parse_setting("language", "en") == "en"
    with pytest.raises(Exception, match="zh, en or auto"):
        check_kb_settings({"language": "fr"})


def test_catalog_lists_the_chinese_capable_embedder_first(tmp_path: Path) -> None:
    entries = catalog(Settings(home=tmp_path))
    assert entries[0].name == MULTILINGUAL and entries[0].chinese
    assert entries[0].installed is MULTI
    assert (entries[0].install is None) is MULTI
    minilm = next(e for e in entries if e.name == "minilm")
    assert minilm.installed and not minilm.chinese
    assert not any(e.name.startswith("openai") for e in entries)  # no server configured
    with_server = catalog(Settings(home=tmp_path, openai_embed_base_url="http://127.0.0.1:9/v1"))
    assert any(e.name.startswith("openai:") for e in with_server)
