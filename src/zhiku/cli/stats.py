"""``zhiku stats``: documents and chunks per knowledge base."""

from __future__ import annotations

import typer

from zhiku.cli.context import handle_errors, open_zhiku, print_json, say


@handle_errors
def stats(as_json: bool = typer.Option(False, "--json")) -> None:
    """Documents and chunks per knowledge base.

    First the database: its kind, and its file or PostgreSQL URL without the password."""
    with open_zhiku() as zk:
        data = zk.stats()
        kind, where = zk.settings.database_kind, zk.settings.database_display
    if as_json:
        print_json({"backend": kind, "database": where, "knowledge_bases": data})
        return
    say(f"database: {kind} {where}")
    for name, counts in data.items():
        parts = ", ".join(f"{k} {v}" for k, v in counts.items())
        say("  ", (name, "bold"), f": {parts}")
