"""The console shell's cross-cutting rules, checked on the sources (no browser): every error
type the server can send has a zh and en text, timestamps go through the one formatter, labels
are translated, input patterns compile under the ``v`` flag, and the first load stays small."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from zhiku.api.errors import _HTTP_KINDS
from zhiku.console import STATIC

SRC = Path(__file__).resolve().parents[2] / "src" / "zhiku"
JS = STATIC / "js"
FIRST_LOAD = ("index.html", "app.css", "js/main.js", "js/api.js", "js/i18n.js", "js/ui.js",
              "js/login.js", "js/shellstrings.js")


def _shell_tables() -> tuple[str, str]:
    text = (JS / "shellstrings.js").read_text(encoding="utf-8")
    return text[text.index("en: {"):text.index("zh: {")], text[text.index("zh: {"):]


def test_every_error_type_has_a_text_in_both_languages() -> None:
    kinds = set(_HTTP_KINDS.values()) | {"internal_error", "http_error", "network_error", "timeout"}
    for path in SRC.rglob("*.py"):
        kinds |= set(re.findall(r'^\s+kind = "(\w+)"$', path.read_text(encoding="utf-8"), re.M))
    kinds.discard("vector")  # a pgvector column type, not an error
    en, zh = _shell_tables()
    missing = {k for k in kinds if f"err_{k}:" not in en or f"err_{k}:" not in zh}
    assert not missing, missing


def test_timestamps_use_the_one_formatter() -> None:
    for path in JS.glob("*.js"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"_at\.slice\(|\.replace\(\"T\", \" \"\)", text), path.name


def test_times_copies_and_pagers_each_have_one_helper() -> None:
    """``fmtTime`` formats every time, ``copyButton`` copies, ``pagerButtons`` pages: no
    module keeps its own (the share page's SSE reader is ``sse.js``, see its test)."""
    own = {
        "time formatter": r"Intl\.DateTimeFormat|toLocaleString\(|toLocaleTimeString\(",
        "clipboard copy": r"clipboard\.writeText|execCommand\(\"copy\"\)",
        "pager": r"t\(\"(?:prev|next)\"\)",
    }
    for path in JS.glob("*.js"):
        if path.name == "ui.js":
            continue
        text = path.read_text(encoding="utf-8")
        for what, pattern in own.items():
            assert not re.search(pattern, text), (path.name, what)
    ui = (JS / "ui.js").read_text(encoding="utf-8")
    assert all(f"export function {name}(" in ui for name in ("fmtTime", "copyButton",
                                                            "pagerButtons"))


def test_no_untranslated_aria_labels_or_page_markers() -> None:
    for path in JS.glob("*.js"):
        if path.name == "i18n.js" or path.name.endswith("strings.js"):
            continue  # the string tables themselves
        # a page module's own string table (addStrings) holds English on purpose
        text = re.sub(r"addStrings\(\{.*?\n\}\);", "", path.read_text(encoding="utf-8"),
                      flags=re.S)
        assert not re.search(r'"aria-label": "[^"]', text), path.name
        assert "`p. ${" not in text and '"Model"' not in text and " tokens`" not in text, path.name
        assert '"∅"' not in text, path.name


def test_replace_children_never_gets_null() -> None:
    """``replaceChildren``/``append`` write ``null`` as text: the shell filters its parts."""
    main = (JS / "main.js").read_text(encoding="utf-8")
    assert "top.replaceChildren(...[" in main and ".filter(Boolean))" in main


@pytest.mark.skipif(shutil.which("node") is None, reason="node is absent")
def test_input_patterns_compile_with_the_v_flag() -> None:
    """Browsers compile ``pattern`` with the ``v`` flag: an invalid one is ignored (no check)."""
    patterns = []
    for path in JS.glob("*.js"):
        patterns += [json.loads(f'"{p}"') for p in
                     re.findall(r'pattern: "((?:[^"\\]|\\.)*)"', path.read_text(encoding="utf-8"))]
    assert patterns
    script = "for (const p of JSON.parse(process.argv[1])) new RegExp(`^(?:${p})$`, 'v');"
    subprocess.run(["node", "-e", script, json.dumps(patterns)], check=True)


def test_first_load_is_small() -> None:
    total = sum((STATIC / name).stat().st_size for name in FIRST_LOAD)
    assert total <= 100 * 1024, total
    main = (JS / "main.js").read_text(encoding="utf-8")
    assert set(re.findall(r'from "\./([\w-]+\.js)"', main)) | {"shellstrings.js"} <= {
        Path(n).name for n in FIRST_LOAD}
