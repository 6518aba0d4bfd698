"""``zhiku eval sets``: import a table (CSV, TSV, XLSX) as an eval set, keeping good rows and
reporting bad ones by row number."""

from __future__ import annotations

from pathlib import Path

import typer

from zhiku.cli.context import handle_errors, open_zhiku, print_json, say
from zhiku.core.errors import InvalidInput

app = typer.Typer(help="Eval sets from tables.", no_args_is_help=True)


@app.command("import")
@handle_errors
def import_(
    path: Path = typer.Argument(..., help="A .csv, .tsv or .xlsx file (headers in en or zh)."),
    name: str = typer.Option(None, "--name", help="Set name (default: the file's stem)."),
    replace: bool = typer.Option(False, "--replace", help="Replace a set of the same name."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Import an eval set from a table; rows that cannot be read are listed and left out."""
    if not path.is_file():
        raise InvalidInput(f"no such file: {path}")
    with open_zhiku() as zk:
        made, found = zk.import_eval_table(name or path.stem, path.read_bytes(), path.name,
                                           replace=replace, origin=str(path.resolve()))
    if as_json:
        print_json({"name": made.name, "size": made.size,
                    "skipped": [{"row": e.row, "error": e.error} for e in found.errors]})
        return
    say(f"imported {made.size} questions into '{made.name}'")
    for e in found.errors:
        say(f"  row {e.row}: {e.error} (skipped)")
