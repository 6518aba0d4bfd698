"""The ``zhiku`` console script: a command group that imports each command only when it runs.

Listing the commands (``zhiku --help``) imports none of them, so start-up costs the Python
interpreter and click, not FastAPI, the graph code or the embedding runtime.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import typer
from typer.core import TyperGroup

if TYPE_CHECKING:  # typer's own copy of click, whose classes typer's groups are built on
    from typer._click import Command, Context, HelpFormatter


@dataclass(frozen=True)
class LazyCommand:
    """Where a command lives and the one-line help shown before it is loaded."""

    module: str
    attribute: str
    help: str


COMMANDS: dict[str, LazyCommand] = {
    name: LazyCommand(module, attribute, help)
    for name, module, attribute, help in (
        ("kb", "zhiku.cli.kb", "app", "Manage knowledge bases."),
        ("ingest", "zhiku.cli.ingest", "ingest",
         "Ingest documents; unchanged files are skipped, changed ones replaced."),
        ("search", "zhiku.cli.search", "search",
         "Search a knowledge base; batch mode prints one JSON line per query."),
        ("ask", "zhiku.cli.search", "ask",
         "Answer a question from the knowledge base, citing every sentence."),
        ("docs", "zhiku.cli.docs", "app", "Manage the documents of a knowledge base."),
        ("groups", "zhiku.cli.groups", "app",
         "Groups of readers and the documents and sources restricted to them."),
        ("sources", "zhiku.cli.sources", "app",
         "Sources: keep knowledge bases in step with folders, sites and stores."),
        ("stats", "zhiku.cli.stats", "stats", "Documents and chunks per knowledge base."),
        ("usage", "zhiku.cli.usage", "usage",
         "Requests, model calls, tokens, cost and latency per assistant, API key or day."),
        ("chat", "zhiku.cli.chat", "chat",
         "Chat with an assistant; answers stream with citations. Empty line or Ctrl-D ends."),
        ("apps", "zhiku.cli.apps", "app",
         "Apps of every kind (assistants, workflows, agents): list, run, publish, roll back."),
        ("share", "zhiku.cli.share", "app",
         "Share links: a public chat page and widget per published app."),
        ("workflows", "zhiku.cli.workflows", "app",
         "Workflows: graphs of retrieval, model, branch and tool nodes."),
        ("agents", "zhiku.cli.agents", "app",
         "Agents: a model that calls tools (knowledge search, HTTP, OpenAPI, MCP) until it "
         "answers."),
        ("models", "zhiku.cli.models", "app",
         "Model providers (OpenAI-compatible servers, a local GGUF model)."),
        ("graph", "zhiku.cli.graph", "app", "The knowledge graph of a knowledge base."),
        ("eval", "zhiku.cli.evals", "app",
         "Evaluate retrieval and answers; compare runs; gate CI."),
        ("logs", "zhiku.cli.logs", "app",
         "The conversation log: every assistant and channel; corrections."),
        ("feedback", "zhiku.cli.feedback", "app",
         "Feedback on answers: thumbs up/down, comments, corrections."),
        ("moderation", "zhiku.cli.moderation", "app",
         "Moderation of questions and answers: word lists, an endpoint, hits."),
        ("export", "zhiku.cli.export", "app",
         "Export curated data (personal data redacted by default)."),
        ("serve", "zhiku.cli.serve", "serve",
         "Start the HTTP API (OpenAPI at /docs and /openapi.json)."),
        ("jobs", "zhiku.cli.jobs", "app", "Background jobs: list, show, cancel, retry."),
        ("worker", "zhiku.cli.worker", "worker",
         "Run background jobs (ingestion, re-indexing, embedding, graph builds, eval runs, source "
         "syncs and their schedules) until stopped."),
        ("migrate", "zhiku.cli.migrate", "migrate",
         "Copy the embedded SQLite database into PostgreSQL."),
        ("admin", "zhiku.cli.admin", "app", "Administer the server: first-run set-up."),
        ("audit", "zhiku.cli.audit", "app",
         "The audit log: who changed what, when, from where; export as JSON lines."),
        ("backup", "zhiku.cli.backup", "backup",
         "Back up the database, stored originals and secret key to a folder."),
        ("restore", "zhiku.cli.backup", "restore",
         "Restore a backup into an empty home or database, checking it first."),
        ("mcp", "zhiku.cli.mcp", "app",
         "MCP: serve knowledge bases and assistants to MCP clients."),
    )
}


def load_command(name: str) -> Command:
    """Import command ``name`` and turn it (a typer app or function) into a command."""
    entry = COMMANDS[name]
    target = getattr(importlib.import_module(entry.module), entry.attribute)
    if isinstance(target, typer.Typer):  # a group, even when it has one sub-command
        command: Command = typer.main.get_group(target)
    else:
        single = typer.Typer()
        single.command(name)(target)
        command = typer.main.get_command(single)
    command.name = name
    return command


class LazyGroup(TyperGroup):
    """A command group over ``COMMANDS`` that imports a command's module only to run it."""

    def list_commands(self, ctx: Context) -> list[str]:
        """Command names in the order of ``COMMANDS`` (the order of a first session)."""
        return list(COMMANDS)

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        """The loaded command, or None for an unknown name (click then says so)."""
        return load_command(cmd_name) if cmd_name in COMMANDS else None

    def format_help(self, ctx: Context, formatter: HelpFormatter) -> None:
        """Click's plain help: typer's rich layout would load every command for its table."""
        super(TyperGroup, self).format_help(ctx, formatter)

    def format_commands(self, ctx: Context, formatter: HelpFormatter) -> None:
        """The command list from the help lines kept in ``COMMANDS``, importing nothing."""
        rows = [(name, entry.help) for name, entry in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def create_app() -> typer.Typer:
    """Build the CLI (an app factory: nothing runs at import time)."""
    app = typer.Typer(
        name="zhiku",
        cls=LazyGroup,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )

    @app.callback()
    def main(ctx: typer.Context) -> None:
        """Zhiku (智库): grounded assistants over your own documents."""
        from zhiku.audit.context import Actor, acting
        from zhiku.permissions.context import reading_as
        from zhiku.store.reader import EVERYTHING

        ctx.with_resource(acting(Actor.cli()))  # what the command changes is audited as this
        ctx.with_resource(reading_as(EVERYTHING))  # the operator reads every document

    return app


def _exit_now(code: int) -> None:
    """End the process once the command is done: exit handlers run and the streams are
    flushed, but the interpreter's teardown (module and native-library destructors, a
    tenth of a second or more once the embedding runtime is loaded) is skipped. Falls back
    to a normal exit while another non-daemon thread still runs."""
    import atexit
    import contextlib
    import os
    import sys
    import threading

    if any(t is not threading.main_thread() and t.is_alive() and not t.daemon
           for t in threading.enumerate()):
        raise SystemExit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing to flush to
            stream.flush()
    os._exit(code)


def _exit_code(exc: SystemExit) -> int:
    import sys

    if exc.code is None or isinstance(exc.code, int):
        return exc.code or 0
    print(exc.code, file=sys.stderr)
    return 1


def run() -> None:
    """Entry point of the console script."""
    try:
        create_app()(prog_name="zhiku")
    except SystemExit as exc:
        _exit_now(_exit_code(exc))
