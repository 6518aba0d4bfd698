"""``zhiku export``: curated data as JSONL — SFT chat examples, DPO pairs, eval sets."""

from __future__ import annotations

from pathlib import Path

import typer

from zhiku.cli.context import handle_errors, open_zhiku, say
from zhiku.cli.feedback import make_filter
from zhiku.evals import export, feedback, sets

app = typer.Typer(help="Export curated data (personal data redacted by default).",
                  no_args_is_help=True)

KB = typer.Option(None, "--kb", help="Only answers from this knowledge base.")
APP = typer.Option(None, "--app", help="Only answers from this assistant.")
SINCE = typer.Option(None, "--since", help="From this ISO date or timestamp.")
UNTIL = typer.Option(None, "--until", help="Up to this ISO date or timestamp.")
TAG = typer.Option(None, "--tag", help="Only feedback with this tag (repeat).")
REDACT = typer.Option(True, "--redact/--no-redact", help="Redact e-mails, phones, ID numbers.")


def _done(n: int, out: Path) -> None:
    say(f"wrote {n} records to {out}")


@app.command("sft")
@handle_errors
def sft(
    out: Path = typer.Argument(..., help="Output JSONL file."),
    kb: str = KB, app_name: str = APP, since: str = SINCE, until: str = UNTIL,
    rating: str = typer.Option(None, "--rating", help="up, down or neutral (none)."),
    tag: list[str] = TAG, redact: bool = REDACT,
) -> None:
    """Supervised fine-tuning data (OpenAI chat format) from approved or corrected answers."""
    flt = make_filter(kb, app_name, since, until, rating, tag)
    with open_zhiku() as zk:
        answers = feedback.list_answers(zk, flt)
    _done(export.write_jsonl(out, export.sft_records(answers, redacted=redact)), out)


@app.command("dpo")
@handle_errors
def dpo(
    out: Path = typer.Argument(..., help="Output JSONL file."),
    kb: str = KB, app_name: str = APP, since: str = SINCE, until: str = UNTIL,
    tag: list[str] = TAG, redact: bool = REDACT,
) -> None:
    """Preference pairs (chosen = approved/corrected, rejected = disliked) for DPO."""
    flt = make_filter(kb, app_name, since, until, None, tag)
    with open_zhiku() as zk:
        answers = feedback.list_answers(zk, flt)
    _done(export.write_jsonl(out, export.dpo_records(answers, redacted=redact)), out)


@app.command("evalset")
@handle_errors
def evalset(
    name: str = typer.Argument(..., help="Eval set name."),
    out: Path = typer.Argument(..., help="Output JSONL file."),
    tag: list[str] = TAG, redact: bool = REDACT,
) -> None:
    """An eval set as JSONL (what `zhiku eval import` reads)."""
    with open_zhiku() as zk:
        questions = sets.questions(zk.evals, name, tag or ())
    _done(export.write_jsonl(out, export.evalset_records(questions, redacted=redact)), out)
