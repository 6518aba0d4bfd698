"""``zhiku chat --app A``: an interactive terminal chat that streams the answer."""

from __future__ import annotations

import sys

import typer

from zhiku.answer.types import Answer
from zhiku.chat.engine import ChatStream
from zhiku.cli.context import handle_errors, open_zhiku, say
from zhiku.cli.output import safe
from zhiku.core.errors import ZhikuError


@handle_errors
def chat(
    app: str = typer.Option(..., "--app", help="The assistant to talk to."),
    conversation: int = typer.Option(None, "--conversation", "-c", help="Continue this one."),
    show_reasoning: bool = typer.Option(False, "--reasoning", help="Print the model's thinking."),
) -> None:
    """Chat with an assistant; answers stream with citations. Empty line or Ctrl-D ends."""
    with open_zhiku() as zk:
        assistant = zk.get_assistant(app)
        say((assistant.name, "bold"), " (Ctrl-D to quit)")
        cid = conversation
        while True:
            try:
                message = input("> " if sys.stdin.isatty() else "").strip()
            except (EOFError, KeyboardInterrupt):
                break
            if not message:
                break
            stream = zk.chat(app, message, cid, stream=True)
            assert isinstance(stream, ChatStream)
            try:
                cid = _print_turn(stream, show_reasoning) or cid
            except KeyboardInterrupt:
                stream.cancel.cancel()
                say("\n(cancelled; nothing was stored)", err=True)
            except ZhikuError as exc:  # one failed turn does not end the chat
                say("\n", ("error:", "red"), " ", exc.message, err=True)
        if cid:
            say(f"conversation {cid}")


def _print_turn(stream: ChatStream, show_reasoning: bool) -> int | None:
    out = sys.stdout
    for event in stream:
        if event.kind == "reasoning" and show_reasoning:
            say((event.text, "dim"), end="", err=True)
        elif event.kind == "token":
            out.write(safe(event.text))
            out.flush()
        elif event.answer is not None:
            out.write("\n")
            answer = event.answer
            for cite in answer.citations:
                where = f", {cite.location}" if cite.location else ""
                say(f"  [{cite.n}] {cite.source}{where}")
            if note := grounding_note(answer):
                say(note, err=True)
    return stream.conversation_id


def grounding_note(answer: Answer) -> str | None:
    """A line saying the answer is not grounded, or what replaced the model's answer."""
    why = {"no_citation": "it cites nothing",
           "invalid_citations": "its citations pointed at documents it was not given"}
    if answer.ungrounded_reason is None:
        return None
    reason = why[answer.ungrounded_reason]
    if not answer.grounded:
        return f"  (warning: this answer may not be grounded: {reason})"
    made = "the extractive answer" if answer.ungrounded_action == "extractive" else "a refusal"
    return f"  (the model's answer was replaced by {made}: {reason})"
