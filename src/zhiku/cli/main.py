"""The ``zhiku`` console script: command groups wired onto one typer app."""

from __future__ import annotations

import typer

from zhiku.cli import apps, docs, evals, export, feedback, graph, kb, models
from zhiku.cli.admin import app as admin_app
from zhiku.cli.chat import chat
from zhiku.cli.context import console, handle_errors, open_zhiku, print_json
from zhiku.cli.ingest import ingest
from zhiku.cli.migrate import migrate
from zhiku.cli.search import ask, search
from zhiku.cli.serve import serve
from zhiku.cli.worker import worker


def create_app() -> typer.Typer:
    """Build the CLI (an app factory: nothing runs at import time)."""
    app = typer.Typer(
        name="zhiku",
        help="Zhiku (智库): grounded assistants over your own documents.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
    )
    app.add_typer(kb.app, name="kb")
    app.add_typer(docs.app, name="docs")
    app.add_typer(graph.app, name="graph")
    app.add_typer(evals.app, name="eval")
    app.add_typer(export.app, name="export")
    app.add_typer(feedback.app, name="feedback")
    app.add_typer(models.app, name="models")
    app.add_typer(apps.app, name="apps")
    app.command("chat")(chat)
    app.command("ingest")(ingest)
    app.command("search")(search)
    app.command("ask")(ask)
    app.command("stats")(stats)
    app.command("serve")(serve)
    app.command("worker")(worker)
    app.command("migrate")(migrate)
    app.add_typer(admin_app, name="admin")
    return app


@handle_errors
def stats(as_json: bool = typer.Option(False, "--json")) -> None:
    """Documents and chunks per knowledge base."""
    with open_zhiku() as zk:
        data = zk.stats()
        path = str(zk.settings.db_path)
    if as_json:
        print_json({"database": path, "knowledge_bases": data})
        return
    console.print(f"database: {path}", highlight=False)
    for name, counts in data.items():
        parts = ", ".join(f"{k} {v}" for k, v in counts.items())
        console.print(f"  [bold]{name}[/bold]: {parts}", highlight=False)


def run() -> None:
    """Entry point of the console script."""
    create_app()()
