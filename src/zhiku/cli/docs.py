"""``zhiku docs``: list and remove documents."""

from __future__ import annotations

from dataclasses import asdict

import typer
from rich.table import Table

from zhiku.cli.context import console, handle_errors, open_zhiku, print_json, say
from zhiku.cli.output import safe

app = typer.Typer(help="Manage the documents of a knowledge base.", no_args_is_help=True)


@app.command("list")
@handle_errors
def list_(
    kb: str = typer.Option(..., "--kb"),
    status: str = typer.Option(None, help="Only documents with this status: parsed, ready, error."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List documents with their status and errors."""
    with open_zhiku() as zk:
        docs = zk.documents(kb, status)
    if as_json:
        print_json([asdict(d) for d in docs])
        return
    table = Table("id", "source", "status", "chunks", "error")
    for d in docs:
        table.add_row(str(d.id), safe(d.source), d.status, str(d.chunk_count), safe(d.error or ""))
    console.print(table)


@app.command("rm")
@handle_errors
def rm(
    refs: list[str] = typer.Argument(..., help="Document ids or sources."),
    kb: str = typer.Option(..., "--kb"),
) -> None:
    """Delete documents with their chunks, vectors and full-text rows."""
    with open_zhiku() as zk:
        for ref in refs:
            doc = zk.delete_document(kb, ref)
            say(f"deleted {doc.id} {doc.source}")
