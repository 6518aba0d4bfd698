"""The console's app pages without a browser: every string they use exists in English and
Chinese (the keys they build from node types, field names and stop reasons included), their
own strings never replace the shell's, and they load only on their routes (with their
stylesheet), not on the first load."""

from __future__ import annotations

import re
from pathlib import Path

from zhiku.console import STATIC
from zhiku.workflows import schema

JS = STATIC / "js"
MODULES = ("apps.js", "workflow.js", "wfcanvas.js", "wfform.js", "wfnodes.js", "wfrun.js",
           "agent.js", "toolsources.js", "appkit.js")
KEY = re.compile(r"(\w+): \"")


def _table(text: str, start: str, end: str) -> set[str]:
    return set(KEY.findall(text[text.index(start):text.index(end)]))


def _strings() -> tuple[set[str], set[str]]:
    """(English keys, Chinese keys) of the shell and of the app pages' own strings."""
    shell = (JS / "i18n.js").read_text(encoding="utf-8")
    own = (JS / "appstrings.js").read_text(encoding="utf-8")
    en = _table(shell, "en: {", "zh: {") | _table(own, "en: {", "zh: {")
    zh = _table(shell, "zh: {", "const KEY") | _table(own, "zh: {", "\n  },\n});")
    return en, zh


def test_app_strings_exist_in_both_languages() -> None:
    own = (JS / "appstrings.js").read_text(encoding="utf-8")
    assert _table(own, "en: {", "zh: {") == _table(own, "zh: {", "\n  },\n});")
    en, zh = _strings()
    used: set[str] = set()
    for name in MODULES:
        used |= set(re.findall(r"\bt\(\"(\w+)\"", (JS / name).read_text(encoding="utf-8")))
    assert used, "the modules use t()"
    assert used <= en, sorted(used - en)
    assert used <= zh, sorted(used - zh)


def test_keys_built_from_names_exist() -> None:
    """Labels made as t(`nt_${type}`) and the like: one per node type, field, run and node
    status, agent stop reason, built-in tool and agent limit."""
    en, zh = _strings()
    nodes = (JS / "wfnodes.js").read_text(encoding="utf-8")
    block = nodes[nodes.index("const COMMON_TAIL"):nodes.index("export const NODE_TYPES")]
    block = re.sub(r"cols: \[\[.*?\]\] \}", "", block, flags=re.S)  # a list's columns
    block = re.sub(r"options: \[[^\]]*\]", "", block)  # a select's choices
    fields = set(re.findall(r"\[\"(\w+)\", \"[a-z]+\"", block))
    assert {"prompt", "template", "knowledge_bases", "timeout_s"} <= fields
    agent = (JS / "agent.js").read_text(encoding="utf-8")
    limits = set(re.findall(r"\[\"(\w+)\", [\d.]+, ", agent))
    assert "step_limit" in limits and "token_budget" in limits
    wanted = ({f"nt_{t}" for t in schema.NODE_TYPES} | {f"nd_{t}" for t in schema.NODE_TYPES}
              | {f"f_{f}" for f in fields} | {f"lim_{f}" for f in limits}
              | {f"st_{s}" for s in ("running", "succeeded", "failed", "skipped", "timeout",
                                     "cancelled")}
              | {f"stop_{s}" for s in ("answered", "step_limit", "token_budget", "cancelled",
                                       "model_error")}
              | {"tool_calculator", "tool_current_time"}
              | {f"kind_{k}" for k in ("assistant", "workflow", "agent")})
    assert wanted <= en, sorted(wanted - en)
    assert wanted <= zh, sorted(wanted - zh)


def test_node_types_match_the_schema() -> None:
    """The palette offers every node type of the schema, and no other."""
    nodes = (JS / "wfnodes.js").read_text(encoding="utf-8")
    block = nodes[nodes.index("export const NODE_FIELDS = {"):nodes.index("};\nfor (const type")]
    assert re.findall(r"^  (\w+): \[", block, re.M) == list(schema.NODE_TYPES)


def test_own_strings_never_replace_the_shells() -> None:
    shell = (JS / "i18n.js").read_text(encoding="utf-8")
    own = (JS / "appstrings.js").read_text(encoding="utf-8")
    clash = _table(own, "en: {", "zh: {") & _table(shell, "en: {", "zh: {")
    assert not clash, clash


def test_pages_load_lazily_with_their_stylesheet() -> None:
    main = (JS / "main.js").read_text(encoding="utf-8")
    for module, page in (("apps.js", "appsPage"), ("workflow.js", "workflowPage"),
                         ("agent.js", "agentPage"), ("toolsources.js", "toolSourcesPage")):
        assert f'"./{module}", "{page}"]' in main
    assert '"#/apps", "nav_apps"' in main
    index = (STATIC / "index.html").read_text(encoding="utf-8")
    assert "apps.css" not in index and (STATIC / "apps.css").is_file()
    assert "/console/apps.css" in (JS / "appkit.js").read_text(encoding="utf-8")
    # the shell's first load never pulls the app modules in
    for name in ("main.js", "api.js", "i18n.js", "ui.js", "login.js"):
        text = (JS / name).read_text(encoding="utf-8")
        assert not any(f'from "./{m}"' in text for m in (*MODULES, "appstrings.js")), name


def test_no_inline_styles() -> None:
    """The console's Content-Security-Policy has no 'unsafe-inline' for styles."""
    for name in (*MODULES, "appstrings.js"):
        text = (JS / name).read_text(encoding="utf-8")
        assert not re.search(r"\bstyle:|setAttribute\(\"style\"|innerHTML", text), name
    assert Path(STATIC / "apps.css").stat().st_size < 20_000
