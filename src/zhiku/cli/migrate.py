"""``zhiku migrate``: move an embedded SQLite database into PostgreSQL (server mode)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from zhiku.cli.context import console, handle_errors, print_json, say
from zhiku.core.settings import Settings

if TYPE_CHECKING:
    from zhiku.store.transfer.run import MigrationReport


class _Bars:
    """One bar per step and table, removed when it is done (the summary table follows)."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task: TaskID | None = None

    def start(self, step: str, table: str, total: int | None) -> None:
        self._task = self._progress.add_task(f"{step:8} {table}", total=total)

    def advance(self, rows: int) -> None:
        if self._task is not None:
            self._progress.advance(self._task, rows)

    def finish(self) -> None:
        if self._task is not None:
            self._progress.remove_task(self._task)
            self._task = None


@handle_errors
def migrate(
    source: str | None = typer.Option(
        None, "--from", help="sqlite:///path/to/zhiku.db (default: ZHIKU_HOME's database)."
    ),
    target: str = typer.Option(..., "--to", help="postgresql://user:password@host:port/db"),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Count what would be copied or pruned; write nothing."
    ),
    prune: bool = typer.Option(
        False, "--prune", help="Delete target rows the source no longer has (after changes)."
    ),
    verify: bool = typer.Option(
        True, "--verify/--no-verify", help="Checksum every table on both sides at the end."
    ),
    batch_rows: int = typer.Option(5000, min=1, help="Rows per transaction."),
    maintenance_work_mem: str = typer.Option(
        "1GB", help="PostgreSQL memory for building the HNSW indexes (the graph should fit)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Copy the embedded SQLite database into PostgreSQL.

    Every workspace, knowledge base, document, chunk, vector, assistant, conversation, user
    and log is copied. Safe to run again: existing rows
    are updated in place, none duplicated. Exits 1 when counts or checksums differ."""
    from zhiku.store.transfer.run import MigrateOptions  # needs the postgres extra
    from zhiku.store.transfer.run import migrate as run_migration
    from zhiku.store.transfer.source import sqlite_path

    path = sqlite_path(source) if source else Settings().db_path
    options = MigrateOptions(
        batch_rows=batch_rows,
        prune=prune,
        dry_run=dry_run,
        verify=verify,
        maintenance_work_mem=maintenance_work_mem,
    )
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, disable=as_json, transient=True) as progress:
        report = run_migration(path, target, options, _Bars(progress))
    if as_json:
        print_json(_as_dict(report))
    else:
        console.print(_table(report))
        if report.hnsw_indexes:
            made = ", ".join(f"{m} ({d}-d)" for m, d in report.hnsw_indexes)
            say(f"HNSW indexes: {made}")
        _verdict(report)
    if not report.dry_run and not report.ok:
        raise typer.Exit(1)


def _verdict(report: MigrationReport) -> None:
    if report.dry_run:
        say("dry run: nothing was written")
    elif report.ok:
        checked = "counts and checksums" if report.verified else "counts (not verified)"
        say(("ok", "green"), f": {checked} match for every table")
    else:
        bad = ", ".join(t.name for t in report.tables if not t.ok)
        say(("mismatch", "red"), f" in: {bad}")


def _table(report: MigrationReport) -> Table:
    table = Table(box=None, pad_edge=False)
    if report.dry_run:
        for name in ("table", "source rows", "target rows", "to insert", "only in target"):
            table.add_column(name, justify="left" if name == "table" else "right")
        for t in report.tables:
            table.add_row(t.name, str(t.source_rows), str(t.target_rows), str(t.new or 0),
                          str(t.extra))
        return table
    for name in ("table", "source", "target", "inserted", "updated", "pruned", "sha256"):
        table.add_column(name, justify="left" if name in ("table", "sha256") else "right",
                         no_wrap=True)
    table.add_column("")
    for t in report.tables:
        sha = (t.source_sha256 or "")[:12]
        if t.source_sha256 and t.source_sha256 != t.target_sha256:
            sha += f" ≠ {(t.target_sha256 or '')[:12]}"
        table.add_row(
            t.name, str(t.source_rows), str(t.target_rows), str(t.inserted), str(t.updated),
            str(t.pruned), sha, Text("✓", style="green") if t.ok else Text("✗", style="red"),
        )
    return table


def _as_dict(report: MigrationReport) -> dict[str, Any]:
    return {
        "ok": report.ok,
        "dry_run": report.dry_run,
        "verified": report.verified,
        "hnsw_indexes": [{"model": m, "dim": d} for m, d in report.hnsw_indexes],
        "tables": [
            {
                "name": t.name,
                "source_rows": t.source_rows,
                "target_rows": t.target_rows,
                "inserted": t.inserted,
                "updated": t.updated,
                "pruned": t.pruned,
                "only_in_target": t.extra,
                "to_insert": t.new,
                "source_sha256": t.source_sha256,
                "target_sha256": t.target_sha256,
                "ok": t.ok,
            }
            for t in report.tables
        ],
    }
