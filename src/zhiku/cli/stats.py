"""``zhiku stats``: documents and chunks per knowledge base."""

from __future__ import annotations

import typer

from zhiku.cli.context import handle_errors, open_zhiku, print_json, say


@handle_errors
def stats(as_json: bool = typer.Option(False, "--json")) -> None:
    """Documents and chunks per knowledge base."""
    with open_zhiku() as zk:
        data = zk.stats()
        path = str(zk.settings.db_path)
    if as_json:
        print_json({"database": path, "knowledge_bases": data})
        return
    say(f"database: {path}")
    for name, counts in data.items():
        parts = ", ".join(f"{k} {v}" for k, v in counts.items())
        say("  ", (name, "bold"), f": {parts}")
