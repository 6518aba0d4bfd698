"""``zhiku feedback``: ask with logging, rate answers, list feedback, turn it into an eval set."""

from __future__ import annotations

import typer

from zhiku.cli.context import handle_errors, open_zhiku, print_json, say
from zhiku.core.errors import InvalidInput
from zhiku.evals import feedback, sets
from zhiku.evals.feedback import FeedbackFilter

app = typer.Typer(help="Feedback on answers: thumbs up/down, comments, corrections.",
                  no_args_is_help=True)


def rating_value(rating: str | None) -> int | None:
    """``up``/``down``/``neutral`` (or ``none``) → 1/-1/0; None stays None."""
    return None if rating is None else feedback.rating_value(rating)


def make_filter(kb: str | None, app_name: str | None, since: str | None, until: str | None,
                rating: str | None, tags: list[str] | None) -> FeedbackFilter:
    """The filter shared by ``feedback list``, ``feedback to-set`` and ``export``."""
    if kb and app_name:
        raise InvalidInput("give at most one of --kb or --app")
    target = f"kb:{kb}" if kb else f"app:{app_name}" if app_name else None
    return FeedbackFilter(target=target, since=since, until=until, rating=rating_value(rating),
                          tags=tags or ())


@app.command("ask")
@handle_errors
def ask(
    question: str = typer.Argument(...),
    kb: list[str] = typer.Option(..., "--kb", help="Knowledge base (repeat for several)."),
    top_k: int = typer.Option(5, "--top-k", "-k", min=1, max=100),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Answer a question and log the answer so it can be rated."""
    with open_zhiku() as zk:
        answer_id, answer = feedback.ask(zk, kb, question, top_k=top_k)
    if as_json:
        print_json({"answer_id": answer_id, **answer.to_dict()})
        return
    say(answer.answer)
    for cite in answer.citations:
        say(f"  [{cite.n}] {cite.source}")
    say(f"answer id {answer_id}: rate it with `zhiku feedback add {answer_id} --up`")


@app.command("add")
@handle_errors
def add(
    answer_id: int = typer.Argument(...),
    up: bool = typer.Option(False, "--up", help="Thumbs up."),
    down: bool = typer.Option(False, "--down", help="Thumbs down."),
    rating: str = typer.Option(None, "--rating", help="up, down or neutral (none); the "
                               "default: neutral."),
    comment: str = typer.Option("", "--comment"),
    correct: str = typer.Option(None, "--correct", help="The corrected answer."),
    tag: list[str] = typer.Option(None, "--tag", help="Tag (repeat)."),
) -> None:
    """Rate a logged answer, comment on it or correct it."""
    if up + down + (rating is not None) > 1:
        raise InvalidInput("give at most one of --up, --down or --rating")
    value = 1 if up else -1 if down else rating_value(rating) or 0
    with open_zhiku() as zk:
        fid = feedback.add_feedback(zk, answer_id, value, comment=comment,
                                    corrected_answer=correct, tags=tag or ())
    say(f"feedback {fid} recorded on answer {answer_id}")


@app.command("list")
@handle_errors
def list_(
    kb: str = typer.Option(None, "--kb"),
    app_name: str = typer.Option(None, "--app"),
    since: str = typer.Option(None, "--since", help="ISO date or timestamp."),
    until: str = typer.Option(None, "--until", help="ISO date or timestamp."),
    rating: str = typer.Option(None, "--rating", help="up, down or neutral (none)."),
    tag: list[str] = typer.Option(None, "--tag"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Answers that received feedback."""
    flt = make_filter(kb, app_name, since, until, rating, tag)
    with open_zhiku() as zk:
        found = feedback.list_answers(zk, flt)
    if as_json:
        print_json([a.to_dict() for a in found])
        return
    for a in found:
        mark = {1: "👍", -1: "👎"}.get(a.rating or 0, "·")
        fixed = " (corrected)" if a.corrected_answer else ""
        say(f"{a.id} {mark}{fixed} [{a.target}] {a.question[:80]}")


@app.command("to-set")
@handle_errors
def to_set(
    name: str = typer.Argument(..., help="Name of the eval set to create."),
    kb: str = typer.Option(None, "--kb"),
    app_name: str = typer.Option(None, "--app"),
    since: str = typer.Option(None, "--since"),
    until: str = typer.Option(None, "--until"),
    tag: list[str] = typer.Option(None, "--tag"),
    replace: bool = typer.Option(False, "--replace"),
) -> None:
    """Create an eval set from answers users approved or corrected."""
    flt = make_filter(kb, app_name, since, until, None, tag)
    with open_zhiku() as zk:
        questions = feedback.eval_questions(feedback.list_answers(zk, flt))
        if not questions:
            raise InvalidInput("no approved or corrected answers match")
        eval_set = sets.create_set(zk.evals, name, questions, origin="feedback", replace=replace)
    say(f"created '{eval_set.name}' with {eval_set.size} questions")
