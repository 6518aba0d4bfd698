"""``zhiku moderation``: the workspace's word lists and moderation endpoint, a dry run, and the
log of hits."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from pydantic import ValidationError
from rich.table import Table

from zhiku.cli.context import console, handle_errors, open_zhiku, print_json, say
from zhiku.cli.output import safe
from zhiku.core.errors import InvalidInput
from zhiku.moderation.policy import ModerationPolicy, WordRule

app = typer.Typer(help="Moderation of questions and answers: word lists, an endpoint, hits.",
                  no_args_is_help=True)
words_app = typer.Typer(help="Add or remove listed words.", no_args_is_help=True)
app.add_typer(words_app, name="words")


def _load(path: Path) -> ModerationPolicy:
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix in (".yaml", ".yml"):
            import yaml

            return ModerationPolicy.model_validate(yaml.safe_load(text))
        return ModerationPolicy.model_validate_json(text)
    except (ValidationError, ValueError) as exc:
        raise InvalidInput(f"{path.name} is not a moderation policy: {exc}") from None


@app.command("show")
@handle_errors
def show(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """The policy (the defaults, marked as not configured, when there is none)."""
    with open_zhiku() as zk:
        policy = zk.moderation.policy()
    shown = policy or ModerationPolicy(enabled=False)
    if as_json:
        print_json({"configured": policy is not None, "policy": shown.model_dump()})
        return
    state = "on" if policy is not None and policy.enabled else "off"
    say(f"moderation: {state}; {len(shown.words)} listed words; endpoint: "
        f"{shown.endpoint or 'none'}")
    say("blocked reply: ", (shown.block_reply, "bold"))
    table = Table("word", "action", "scope")
    for rule in shown.words:
        table.add_row(safe(rule.word), rule.action, rule.scope)
    if shown.words:
        console.print(table)


@app.command("set")
@handle_errors
def set_policy(path: Path = typer.Argument(..., exists=True, dir_okay=False,
                                           help="A policy as JSON or YAML.")) -> None:
    """Replace the policy with the one in PATH."""
    policy = _load(path)
    with open_zhiku() as zk:
        zk.moderation.set_policy(policy)
    say(f"moderation policy set: {len(policy.words)} listed words")


@app.command("clear")
@handle_errors
def clear() -> None:
    """Stop moderating (the log of hits stays)."""
    with open_zhiku() as zk:
        zk.moderation.clear()
    say("moderation off")


@words_app.command("add")
@handle_errors
def add_words(
    words: list[str] = typer.Argument(..., help="Words or phrases."),
    action: str = typer.Option("block", help="block (the reply replaces the text) or mask."),
    scope: str = typer.Option("both", help="input (questions), output (answers) or both."),
) -> None:
    """List words (an already listed word takes the new action and scope)."""
    try:
        rules = [WordRule.model_validate({"word": w, "action": action, "scope": scope})
                 for w in words]
    except ValidationError as exc:
        raise InvalidInput(f"not a listed word: {exc.errors()[0]['msg']}") from None
    with open_zhiku() as zk:
        policy = zk.moderation.policy() or ModerationPolicy()
        new = {r.word for r in rules}
        kept = [r for r in policy.words if r.word not in new]
        zk.moderation.set_policy(policy.model_copy(update={"words": kept + rules}))
    say(f"listed {len(rules)} word(s)")


@words_app.command("remove")
@handle_errors
def remove_words(words: list[str] = typer.Argument(..., help="Listed words.")) -> None:
    """Remove listed words."""
    with open_zhiku() as zk:
        policy = zk.moderation.policy()
        if policy is None:
            raise InvalidInput("no moderation policy is set")
        gone = set(words)
        kept = [r for r in policy.words if r.word not in gone]
        zk.moderation.set_policy(policy.model_copy(update={"words": kept}))
    say(f"removed {len(policy.words) - len(kept)} word(s)")


@app.command("test")
@handle_errors
def test(text: str = typer.Argument(..., help="A question or an answer to try."),
         as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """What the policy does to TEXT as a question and as an answer (nothing is logged)."""
    with open_zhiku() as zk:
        result = zk.moderation.test(text)
    if as_json:
        print_json(result)
        return
    for direction in ("input", "output"):
        got = result[direction]
        verdict = "blocked" if got["blocked"] else "masked" if got["words"] else "passes"
        say(f"{direction}: {verdict}: ", got["text"])


@app.command("hits")
@handle_errors
def hits(limit: int = typer.Option(50, min=1, max=500),
         as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Logged hits, newest first."""
    with open_zhiku() as zk:
        found = zk.moderation.hits(limit)
    if as_json:
        print_json(found)
        return
    table = Table("id", "at", "direction", "action", "source", "words", "app", "excerpt")
    for h in found:
        table.add_row(str(h["id"]), h["at"], h["direction"], h["action"], h["source"],
                      safe(json.dumps(h["words"], ensure_ascii=False)), safe(h["app"] or ""),
                      safe(h["excerpt"]))
    console.print(table)
