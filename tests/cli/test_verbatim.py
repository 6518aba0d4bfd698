"""Text from documents is data: the CLI prints it as written, never as rich markup, emoji codes
or terminal escape sequences (those are shown as visible control pictures)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import pgtest
from zhiku.cli.output import safe

ZHIKU = Path(sys.executable).with_name("zhiku")

TRICKY = (
    "Markup test: close [/] then [bold]not bold[/bold] and [link=https://example.com]a link[/link] "
    "with {} braces, :smile: codes and an inert escape \x1b[31mred\x1b[0m in one sentence."
)
DOC = f"# Markup handbook\n\n## Tricky\n\n{TRICKY}\n\nSee [docs/settings.md](docs/settings.md).\n"
VISIBLE = TRICKY.replace("\x1b", "\u241b")


def zhiku(home: Path, url: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"ZHIKU_HOME": str(home), "COLUMNS": "80", "PATH": "/usr/bin:/bin"}
    if url:
        env["ZHIKU_DATABASE_URL"] = url
    proc = subprocess.run([str(ZHIKU), *args], env=env, capture_output=True, text=True,
                          encoding="utf-8", timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture
def kb(tmp_path: Path) -> tuple[Path, str | None]:
    url = pgtest.fresh_database() if pgtest.BACKEND == "postgres" else None
    home = tmp_path / "home"
    (tmp_path / "markup.md").write_text(DOC, encoding="utf-8")
    zhiku(home, url, "kb", "create", "m", "--embedder", "hashing")
    zhiku(home, url, "ingest", "--kb", "m", str(tmp_path / "markup.md"))
    return home, url


def test_safe_shows_control_characters_one_for_one() -> None:
    assert safe("a\x1b[31mb\rc\x07\td\ne\x7f\x9b") == "a\u241b[31mb\u240dc\u2407\td\ne\u2421\ufffd"
    assert safe("[bold]x[/] :smile: {}") == "[bold]x[/] :smile: {}"


def test_search_and_ask_print_document_text_verbatim(kb: tuple[Path, str | None]) -> None:
    home, url = kb
    searched = zhiku(home, url, "search", "--kb", "m", "markup braces escape")
    assert VISIBLE in searched.stdout  # one line, not re-wrapped at 80 columns
    assert "[docs/settings.md](docs/settings.md)" in searched.stdout
    assert "\x1b" not in searched.stdout

    asked = zhiku(home, url, "ask", "--kb", "m", "What does the markup test close with braces?")
    assert "[/]" in asked.stdout and "[bold]not bold[/bold]" in asked.stdout
    assert "[link=https://example.com]a link[/link]" in asked.stdout
    assert ":smile:" in asked.stdout and "{}" in asked.stdout
    assert "\u241b[31mred\u241b[0m" in asked.stdout and "\x1b" not in asked.stdout

    as_json = json.loads(
        zhiku(home, url, "ask", "--kb", "m", "--json", "What does the markup test close?").stdout
    )
    assert TRICKY in as_json["answer"]  # JSON keeps the data as it is
    assert as_json["citations"] and not as_json["refused"]
