"""``zhiku audit``: read a workspace's audit log, or export it as JSON lines."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Literal, cast

import typer
from rich.table import Table

from zhiku.cli.context import console, handle_errors, print_json
from zhiku.cli.output import safe
from zhiku.core.settings import Settings

if TYPE_CHECKING:
    from zhiku.audit.log import Query
    from zhiku.service import Zhiku

app = typer.Typer(help="The audit log: who changed what, when, from where; export as JSON lines.",
                  no_args_is_help=True)

WORKSPACE = typer.Option("default", "--workspace", "-w", help="The workspace's name.")
SINCE = typer.Option(None, "--since", help="ISO date or time (inclusive; UTC unless zoned).")
UNTIL = typer.Option(None, "--until", help="ISO date or time (exclusive).")
ACTOR = typer.Option(None, "--actor", help="Part of the actor's name, or its id.")
ACTION = typer.Option(None, "--action", help="An action (kb.delete) or a family (kb).")
RESULT = typer.Option(None, "--result", help="success or failure.")


@contextmanager
def _workspace(name: str) -> Iterator[Zhiku]:
    """The facade of an existing workspace (``NotFound`` otherwise: nothing is created)."""
    from zhiku.runtime import Runtime

    with Runtime(Settings()) as runtime:
        yield runtime.workspace(runtime.store.workspace_id(name))


def _query(since: str | None, until: str | None, actor: str | None, action: str | None,
           result: str | None) -> Query:
    from zhiku.audit.log import Query

    if result not in (None, "success", "failure"):
        raise typer.BadParameter("--result is success or failure")
    return Query(since, until, actor, action,
                 cast(Literal["success", "failure"] | None, result))


@app.command("list")
@handle_errors
def list_entries(
    workspace: str = WORKSPACE, since: str = SINCE, until: str = UNTIL, actor: str = ACTOR,
    action: str = ACTION, result: str = RESULT,
    limit: int = typer.Option(50, "--limit", min=1, max=500, help="At most this many."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The newest entries first."""
    with _workspace(workspace) as zk:
        page = zk.audit_entries(_query(since, until, actor, action, result), limit=limit)
    if as_json:
        print_json([e.as_dict() for e in page.entries])
        return
    table = Table("at (UTC)", "actor", "action", "target", "address", "result")
    for e in page.entries:
        target = " ".join(x for x in (e.target_kind, e.target_name or e.target_id) if x)
        table.add_row(e.at, safe(e.actor_name), e.action, safe(target), e.address or "-",
                      e.result if e.result == "success" else f"[red]{e.result}[/red]")
    console.print(table)


@app.command("export")
@handle_errors
def export(
    workspace: str = WORKSPACE, since: str = SINCE, until: str = UNTIL, actor: str = ACTOR,
    action: str = ACTION, result: str = RESULT,
    output: Path = typer.Option(None, "--output", "-o", help="Write here instead of stdout."),
) -> None:
    """Every matching entry as JSON lines, oldest first."""
    with _workspace(workspace) as zk:
        entries = zk.audit_export(_query(since, until, actor, action, result))
        out = output.open("w", encoding="utf-8") if output else sys.stdout
        try:
            for entry in entries:
                out.write(json.dumps(entry.as_dict(), ensure_ascii=False) + "\n")
        finally:
            if output:
                out.close()
