"""The remote connector kinds in the registry, third-party kinds from entry points, and the
pieces the connectors share (globs, a missing client library)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from connector_checks import context

from zhiku.connectors.base import ConnectorSpec
from zhiku.connectors.common import glob_match
from zhiku.connectors.registry import connector_spec, kinds
from zhiku.core.errors import InvalidInput, MissingDependency

REMOTE = {"s3": {"bucket": "b"}, "webdav": {"base_url": "https://dav.example.com/"},
          "git": {"url": "https://git.example.com/docs.git"},
          "sql": {"table": "t", "id_column": "id", "text_columns": ["body"]}}


@pytest.mark.parametrize("kind", sorted(REMOTE))
def test_each_remote_kind_loads_with_a_strict_schema_and_declared_secrets(kind: str):
    spec = connector_spec(kind)
    assert spec.kind == kind and spec.description
    assert spec.config_model.model_validate(REMOTE[kind])
    with pytest.raises(ValueError, match="extra_option"):
        spec.config_model.model_validate({**REMOTE[kind], "extra_option": 1})
    assert spec.secret_fields
    # Secrets travel apart from the options, which are stored and shown in clear.
    assert not set(spec.secret_fields) & set(spec.config_model.model_fields)


def test_a_plugin_is_found_through_its_entry_point(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "zhiku_demo_plugin.py").write_text(
        "from pydantic import BaseModel\n"
        "from zhiku.connectors.base import ConnectorSpec\n"
        "class Opts(BaseModel):\n    pass\n"
        "SPEC = ConnectorSpec(kind='demo', config_model=Opts, open=lambda o, s, c: None)\n"
        "NOT_A_SPEC = 42\n"
    )
    info = tmp_path / "zhiku_demo_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: zhiku-demo-plugin\n"
                                   "Version: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[zhiku.connectors]\ndemo = zhiku_demo_plugin:SPEC\n"
        "broken = zhiku_demo_plugin:NOT_A_SPEC\ns3 = zhiku_demo_plugin:SPEC\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    known = kinds()
    assert known["demo"] == "zhiku_demo_plugin:SPEC"
    assert known["s3"] == "zhiku.connectors.s3:SPEC"  # a plugin cannot replace a built-in
    spec = connector_spec("demo")
    assert isinstance(spec, ConnectorSpec) and spec.kind == "demo"
    with pytest.raises(InvalidInput, match="not a ConnectorSpec"):
        connector_spec("broken")
    with pytest.raises(InvalidInput, match="unknown source kind 'nope'"):
        connector_spec("nope")
    monkeypatch.delitem(sys.modules, "zhiku_demo_plugin")


def test_a_missing_client_library_says_what_to_install(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(sys.modules, "s3fs", None)  # import s3fs now raises ImportError
    spec = connector_spec("s3")
    with pytest.raises(MissingDependency, match=r"pip install 'zhiku\[connectors\]'"):
        spec.open(spec.config_model.model_validate({"bucket": "b"}), {}, context())


@pytest.mark.parametrize(("pattern", "path", "expected"), [
    ("*.md", "a.md", True),
    ("*.md", "deep/er/a.md", True),  # no slash: the file name at any depth
    ("*.md", "a.mdx", False),
    ("docs/*.md", "docs/a.md", True),
    ("docs/*.md", "docs/x/a.md", False),  # * stays within a folder
    ("docs/**/*.md", "docs/a.md", True),
    ("docs/**/*.md", "docs/x/y/a.md", True),
    ("docs/**", "docs/x/y/a.pdf", True),
    ("docs/**", "other/docs/a.md", False),
    ("/docs/?.md", "docs/a.md", True),
    ("a[1].md", "a[1].md", True),  # brackets are literal, not a character class
])
def test_globs(pattern: str, path: str, expected: bool):
    assert glob_match(pattern, path) is expected
