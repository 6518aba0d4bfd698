"""``zhiku logs`` and ``zhiku eval sets import``, end to end in-process."""

from __future__ import annotations

import json
from pathlib import Path

from logsdata import ANSWERED, REFUSED, seed
from typer.testing import CliRunner

from zhiku.cli.main import create_app
from zhiku.core.settings import Settings
from zhiku.evals import sets
from zhiku.service import Zhiku


def _run(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(create_app(), list(args))
    assert result.exit_code == code, result.output
    return result.output


def test_logs_commands(zhiku_home: Path) -> None:
    with Zhiku(Settings(home=zhiku_home, embedder="hashing")) as zk:
        ids = seed(zk)
    listed = json.loads(_run("logs", "list", "--json"))
    assert listed["total"] == 3
    assert json.loads(_run("logs", "list", "--refused", "--channel", "openai", "--json"))[
        "total"] == 1
    assert "1 of 1 conversations" in _run("logs", "list", "-q", "年假")
    shown = json.loads(_run("logs", "show", str(ids["conv_answered"]), "--json"))
    assert shown[0]["question"] == ANSWERED and shown[0]["citations"]
    assert "leave.md" in _run("logs", "show", str(ids["conv_answered"]))
    groups = json.loads(_run("logs", "unanswered", "--json"))
    assert groups[0]["count"] == 2
    out = _run("logs", "correct", str(ids["refused_openai"]), "--answer", "每周可远程办公两天。",
               "--kb", "hr", "--eval-set", "fixes")
    assert "corrections/message-" in out and "eval set 'fixes'" in out
    hits = json.loads(_run("search", "远程办公", "--kb", "hr", "--json"))
    assert "远程办公两天" in json.dumps(hits, ensure_ascii=False)
    assert "2 questions" in _run("logs", "to-set", "from-log", str(ids["answered"]),
                                 str(ids["refused_local"]))
    assert "conversation 99999 does not exist" in _run("logs", "show", "99999", code=2)
    with Zhiku(Settings(home=zhiku_home)) as zk:
        assert [q.question for q in sets.questions(zk.evals, "fixes")] == [REFUSED]


def test_eval_sets_import(zhiku_home: Path, tmp_path: Path) -> None:
    table = tmp_path / "年假.csv"
    table.write_text("问题,参考答案\n年假几天？,5 天\n,缺问题\n", encoding="utf-8")
    out = _run("eval", "sets", "import", str(table))
    assert "imported 1 questions into '年假'" in out and "row 3: the question is empty" in out
    made = json.loads(_run("eval", "sets", "import", str(table), "--name", "x", "--json"))
    assert made["size"] == 1 and made["skipped"] == [{"row": 3,
                                                      "error": "the question is empty"}]
    result = CliRunner().invoke(create_app(), ["eval", "sets", "import", str(table)])
    assert result.exit_code != 0 and "already exists" in result.output


def test_correct_restricts_the_faq_like_what_the_reply_cited(zhiku_home: Path) -> None:
    """The answered reply cited ``leave.md``; once that is restricted to a group, the FAQ a
    correction makes inherits it, unless ``--groups`` names others ('' : administrators)."""
    with Zhiku(Settings(home=zhiku_home, embedder="hashing")) as zk:
        ids = seed(zk)
    _run("groups", "create", "hr-team")
    _run("groups", "create", "board")
    _run("groups", "restrict", "--kb", "hr", "--doc", "leave.md", "--groups", "hr-team")
    with Zhiku(Settings(home=zhiku_home)) as zk:
        team, board = (zk.permissions.group(g).id for g in ("hr-team", "board"))
    mid = str(ids["answered"])
    made = json.loads(_run("logs", "correct", mid, "--answer", "5 天。", "--kb", "hr", "--json"))
    assert made["groups"] == [team]
    assert "read by 2 group(s)" in _run("logs", "correct", mid, "--answer", "5 天。",
                                        "--kb", "hr", "--groups", "board,hr-team")
    with Zhiku(Settings(home=zhiku_home)) as zk:
        doc = zk.store.get_document(made["document_id"])
        assert zk.permissions.groups_of(doc) == sorted([team, board])
    assert "read by administrators" in _run("logs", "correct", mid, "--answer", "5 天。",
                                            "--kb", "hr", "--groups", "")
    assert "'nope' does not exist" in _run("logs", "correct", mid, "--answer", "x", "--kb", "hr",
                                           "--groups", "nope", code=2)
    assert "zhiku groups restrict" in _run("logs", "correct", mid, "--answer", "x", "--kb",
                                           "hr", "--groups", "-", code=2)
