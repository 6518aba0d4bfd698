"""``zhiku chat --app A``: an interactive terminal chat that streams the answer."""

from __future__ import annotations

import sys

import typer

from zhiku.chat.engine import ChatStream
from zhiku.cli.context import console, err_console, handle_errors, open_zhiku
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
        console.print(f"[bold]{assistant.name}[/bold] (Ctrl-D to quit)", highlight=False)
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
                err_console.print("\n(cancelled; nothing was stored)")
            except ZhikuError as exc:  # one failed turn does not end the chat
                err_console.print(f"\n[red]error:[/red] {exc.message}", highlight=False)
        if cid:
            console.print(f"conversation {cid}", highlight=False)


def _print_turn(stream: ChatStream, show_reasoning: bool) -> int | None:
    out = sys.stdout
    for event in stream:
        if event.kind == "reasoning" and show_reasoning:
            err_console.print(event.text, end="", style="dim", highlight=False, markup=False)
        elif event.kind == "token":
            out.write(event.text)
            out.flush()
        elif event.answer is not None:
            out.write("\n")
            answer = event.answer
            for cite in answer.citations:
                where = f", {cite.location}" if cite.location else ""
                console.print(f"  [{cite.n}] {cite.source}{where}", highlight=False, markup=False)
            if answer.flagged:
                err_console.print("  (warning: no valid citation; this answer may not be grounded)")
    return stream.conversation_id
