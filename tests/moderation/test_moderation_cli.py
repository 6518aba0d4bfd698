"""``zhiku moderation``: list words, set a policy from a file, a dry run, the log of hits."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from zhiku.cli.main import create_app
from zhiku.core.settings import Settings
from zhiku.ingest.pipeline import SourceItem
from zhiku.service import Zhiku


def test_the_cli_manages_the_policy_and_reads_the_hits(zhiku_home: Path, tmp_path: Path) -> None:
    runner, app = CliRunner(), create_app()
    added = runner.invoke(app, ["moderation", "words", "add", "发票", "报销", "--action", "mask",
                                "--scope", "output"])
    assert added.exit_code == 0, added.output
    shown = json.loads(runner.invoke(app, ["moderation", "show", "--json"]).stdout)
    assert shown["configured"] and [w["word"] for w in shown["policy"]["words"]] == ["发票", "报销"]
    bad = runner.invoke(app, ["moderation", "words", "add", "x", "--action", "delete"])
    assert bad.exit_code == 2 and "not a listed word" in bad.output
    dry = json.loads(runner.invoke(app, ["moderation", "test", "需要发票 [/]", "--json"]).stdout)
    assert dry["output"]["text"] == "需要** [/]" and dry["input"]["words"] == []
    plain = runner.invoke(app, ["moderation", "test", "[bold]发票[/bold]"])
    assert "[bold]**[/bold]" in plain.stdout  # printed as data, never as markup
    with Zhiku(Settings(home=zhiku_home, embedder="hashing")) as zk:
        zk.create_kb("hr")
        zk.ingest_items("hr", [SourceItem("e.md", data="# 报销\n\n报销需要发票原件。".encode())])
        zk.create_assistant("Bot", knowledge_bases=["hr"], retrieval={"min_relevance": 0.1})
        answer = zk.chat("bot", "报销需要什么？").answer
    assert "发票" not in answer.answer and "报销" not in answer.answer
    hits = json.loads(runner.invoke(app, ["moderation", "hits", "--json"]).stdout)
    assert hits[0]["direction"] == "output" and hits[0]["app"] == "bot"
    assert set(hits[0]["words"]) <= {"发票", "报销"}
    policy = tmp_path / "policy.yaml"
    policy.write_text("words:\n  - {word: 工资, action: block, scope: input}\n"
                      "block_reply: 无法回答\n", encoding="utf-8")
    assert runner.invoke(app, ["moderation", "set", str(policy)]).exit_code == 0
    shown = json.loads(runner.invoke(app, ["moderation", "show", "--json"]).stdout)
    assert shown["policy"]["block_reply"] == "无法回答"
    broken = tmp_path / "broken.json"
    broken.write_text('{"words": [{"word": "x", "action": "nuke"}]}', encoding="utf-8")
    failed = runner.invoke(app, ["moderation", "set", str(broken)])
    assert failed.exit_code == 2 and "not a moderation policy" in failed.output
    assert runner.invoke(app, ["moderation", "words", "remove", "工资"]).exit_code == 0
    assert runner.invoke(app, ["moderation", "clear"]).exit_code == 0
    shown = json.loads(runner.invoke(app, ["moderation", "show", "--json"]).stdout)
    assert shown["configured"] is False
