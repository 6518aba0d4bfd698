"""``zhiku ingest``: files, folders and globs into a knowledge base, with a progress bar."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from zhiku.cli.context import console, err_console, handle_errors, open_zhiku, print_json, say
from zhiku.core.errors import InvalidInput
from zhiku.ingest.events import FileResult
from zhiku.ingest.sources import expand_paths


class _Bar:
    """An ``IngestListener`` drawing two bars: files parsed, chunks embedded."""

    def __init__(self, progress: Progress, files: int) -> None:
        self._progress = progress
        self._files = progress.add_task("parsed", total=files)
        self._chunks = progress.add_task("embedded", total=0)

    def file_done(self, result: FileResult) -> None:
        self._progress.advance(self._files)

    def queued(self, count: int) -> None:
        total = self._progress.tasks[self._chunks].total or 0
        self._progress.update(self._chunks, total=total + count)

    def embedded(self, count: int) -> None:
        self._progress.advance(self._chunks, count)


@handle_errors
def ingest(
    paths: list[str] = typer.Argument(..., help="Files, folders (recursive) or globs."),
    kb: str = typer.Option(..., "--kb", help="Knowledge base name."),
    meta: str = typer.Option(
        None, "--meta", help='Metadata for every file, as JSON: {"tags": [...]}'
    ),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary."),
) -> None:
    """Ingest documents; unchanged files are skipped, changed ones replaced."""
    metadata = _metadata(meta)
    files = expand_paths(paths)
    with open_zhiku() as zk:
        columns = (
            TextColumn("{task.description:>9}", markup=False),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=err_console, transient=as_json) as progress:
            report = zk.ingest(
                kb, [Path(f) for f in files], metadata=metadata, listener=_Bar(progress, len(files))
            )
    if as_json:
        print_json(
            {
                "files": [vars_of(f) for f in report.files],
                "chunks_embedded": report.chunks_embedded,
                "seconds": round(report.seconds, 3),
            }
        )
    else:
        table = Table("status", "count")
        for status in ("added", "updated", "unchanged", "failed"):
            table.add_row(status, str(report.count(status)))
        console.print(table)
        for failure in report.failed:
            say(("failed", "red"), f" {failure.source}: {failure.error}", err=True)
        say(f"{report.chunks_embedded} chunks embedded in {report.seconds:.1f}s")
    if report.failed:
        raise typer.Exit(1)


def _metadata(raw: str | None) -> dict[str, object] | None:
    """``--meta``: a JSON object, or a clean usage error (never a traceback)."""
    if not raw:
        return None
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"--meta is not valid JSON: {exc}") from exc
    if not isinstance(parsed, dict):
        raise InvalidInput('--meta must be a JSON object, e.g. {"tags": ["hr"]}')
    return parsed


def vars_of(result: FileResult) -> dict[str, object]:
    """A file result as a dict."""
    return {
        "source": result.source,
        "status": result.status,
        "chunks": result.chunks,
        "document_id": result.document_id,
        "error": result.error,
    }
