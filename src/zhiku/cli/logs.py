"""``zhiku logs``: the workspace's conversation log, one conversation's turns, corrections,
refused questions and eval sets from logged answers."""

from __future__ import annotations

import typer

from zhiku.cli.context import handle_errors, open_zhiku, print_json, say
from zhiku.cli.groups import group_refs
from zhiku.core.errors import InvalidInput
from zhiku.logs.query import LogFilter

app = typer.Typer(help="The conversation log: every assistant and channel; corrections.",
                  no_args_is_help=True)


@app.command("list")
@handle_errors
def list_(
    assistant: str = typer.Option(None, "--app", help="Only this assistant (slug or name)."),
    channel: str = typer.Option(None, "--channel", help="chat, openai, local, …"),
    since: str = typer.Option(None, "--since", help="ISO date or time (inclusive)."),
    until: str = typer.Option(None, "--until", help="ISO date or time (inclusive)."),
    refused: bool = typer.Option(False, "--refused", help="With a refused answer."),
    down: bool = typer.Option(False, "--down", help="With an answer rated down."),
    no_citation: bool = typer.Option(False, "--no-citation", help="With an uncited answer."),
    flagged: bool = typer.Option(False, "--flagged", help="With a flagged answer."),
    text: str = typer.Option(None, "--text", "-q", help="Text in the questions."),
    offset: int = typer.Option(0, "--offset", min=0),
    limit: int = typer.Option(50, "--limit", min=1, max=200),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Conversations, newest first, that have a turn matching every filter given."""
    with open_zhiku() as zk:
        assistant_id = zk.get_assistant(assistant).id if assistant else None
        flt = LogFilter(assistant_id=assistant_id, channel=channel, since=since, until=until,
                        refused=refused, thumbs_down=down, no_citation=no_citation,
                        flagged=flagged, text=text)
        total, rows = zk.conversation_log(flt, offset=offset, limit=limit)
        names = {a.id: a.slug for a in zk.list_assistants()}
    if as_json:
        print_json({"total": total, "conversations": [
            {**r.to_dict(), "assistant": names.get(r.assistant_id or 0)} for r in rows]})
        return
    for r in rows:
        marks = "".join(m for m, n in (("R", r.refused), ("D", r.thumbs_down),
                                       ("N", r.no_citation)) if n)
        say(f"{r.id:>6}  {r.updated_at[:19]}  {names.get(r.assistant_id or 0, '-'):<16} "
            f"{r.channel:<8} {r.turns:>3} {marks:<3} {r.first_question[:60]}")
    say(f"{len(rows)} of {total} conversations (R refused, D rated down, N no citation)")


@app.command("show")
@handle_errors
def show(
    conversation_id: int = typer.Argument(...),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """One conversation's turns: question, answer, citations, feedback."""
    with open_zhiku() as zk:
        turns = zk.conversation_turns(conversation_id)
    if as_json:
        print_json([t.to_dict() for t in turns])
        return
    for t in turns:
        say(f"[{t.message_id}] Q: {t.question}")
        say(f"    A: {t.answer}" + ("  (refused)" if t.refused else ""))
        for c in t.citations:
            say(f"       [{c.get('n')}] {c.get('source')}")
        if t.rating is not None or t.corrected_answer:
            say(f"    feedback: {t.rating}" + (f", corrected: {t.corrected_answer}"
                                               if t.corrected_answer else ""))


@app.command("correct")
@handle_errors
def correct(
    message_id: int = typer.Argument(..., help="The reply's message id (see `logs show`)."),
    answer: str = typer.Option(..., "--answer", help="The corrected answer."),
    kb: str = typer.Option(None, "--kb", help="Add it as an FAQ entry to this knowledge base."),
    eval_set: str = typer.Option(None, "--eval-set", help="Add it to this eval set."),
    expected_source: str = typer.Option(None, "--expected-source",
                                        help="The eval question's expected source."),
    groups: str = typer.Option(
        None, "--groups",
        help="Comma-separated groups (names or ids) that may read the FAQ entry; '' restricts "
        "it to administrators; unset: the groups the reply's cited restricted documents share "
        "(unrestricted when it cited none)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Fix a reply: an FAQ entry (searchable at once, read only by those who may read the
    restricted documents the reply cited, or by --groups) and/or an eval question."""
    if groups is not None and groups.strip() == "-":
        raise InvalidInput("a correction cannot open its FAQ entry to everyone; "
                           "use `zhiku groups restrict --groups -` on it")
    refs = None if groups is None else group_refs(groups)
    with open_zhiku() as zk:
        made = zk.correct_reply(message_id, answer, kb=kb, eval_set=eval_set,
                                expected_source=expected_source, groups=refs)
    if as_json:
        print_json(made.to_dict())
        return
    if made.kb:
        readers = ("everyone in the workspace" if made.groups is None else
                   f"{len(made.groups)} group(s)" if made.groups else "administrators")
        say(f"added {made.source} to knowledge base '{made.kb}' (read by {readers})")
    if made.eval_set:
        say(f"added question {made.eval_question} to eval set '{made.eval_set}'")


@app.command("unanswered")
@handle_errors
def unanswered(
    since: str = typer.Option(None, "--since", help="ISO date or time (inclusive)."),
    limit: int = typer.Option(100, "--limit", min=1, max=500),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Refused questions grouped by text, most asked first (待补充问题)."""
    with open_zhiku() as zk:
        groups = zk.unanswered_questions(since=since, limit=limit)
    if as_json:
        print_json([g.to_dict() for g in groups])
        return
    for g in groups:
        say(f"{g.count:>4}  {g.last_asked[:19]}  [{g.message_id}] {g.question}")


@app.command("to-set")
@handle_errors
def to_set(
    name: str = typer.Argument(..., help="The new eval set."),
    message_ids: list[int] = typer.Argument(..., help="Reply message ids."),
    replace: bool = typer.Option(False, "--replace"),
) -> None:
    """An eval set of logged replies (the corrected answer, else the reply, is the reference)."""
    with open_zhiku() as zk:
        made = zk.eval_set_from_log(name, message_ids, replace=replace)
    say(f"eval set '{made.name}': {made.size} questions")
