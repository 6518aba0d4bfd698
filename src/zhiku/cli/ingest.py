"""``zhiku ingest``: files, folders, globs and URLs into a knowledge base, with a progress bar,
or queued as background jobs."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from zhiku.cli.context import console, err_console, handle_errors, open_zhiku, print_json, say
from zhiku.cli.groups import group_refs
from zhiku.core.errors import InvalidInput, PayloadTooLarge, UnsupportedFormat
from zhiku.ingest.events import FileResult
from zhiku.ingest.fetch import UrlPolicy, check_url, is_url
from zhiku.ingest.sources import expand_paths
from zhiku.jobs.submit import Upload


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
    paths: list[str] = typer.Argument(
        ..., help="Files, folders (recursive), globs or http(s) URLs."
    ),
    kb: str = typer.Option(..., "--kb", help="Knowledge base name."),
    meta: str = typer.Option(
        None, "--meta", help='Metadata for every file, as JSON: {"tags": [...]}'
    ),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary."),
    background: bool = typer.Option(
        False, "--background",
        help="Queue the work for 'zhiku worker' or 'zhiku serve' and print the job ids.",
    ),
    groups: str = typer.Option(
        None, "--groups",
        help="Comma-separated groups (names or ids) that may read these documents; unset: "
        "everyone in the workspace (a re-ingested document keeps its groups).",
    ),
) -> None:
    """Ingest documents; unchanged files are skipped, changed ones replaced.

    URLs are fetched through the same guard as the HTTP API: internal addresses are refused
    unless ZHIKU_API_URL_ALLOWLIST permits them.
    """
    metadata = _metadata(meta)
    urls = [p for p in paths if is_url(p)]
    files = expand_paths([p for p in paths if not is_url(p)])
    refs = group_refs(groups)
    if background:
        _queue(kb, files, urls, metadata, as_json, refs)
        return
    sources: list[str | Path] = [*(Path(f) for f in files), *urls]
    with open_zhiku() as zk:
        columns = (
            TextColumn("{task.description:>9}", markup=False),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=err_console, transient=as_json) as progress:
            report = zk.ingest(
                kb, sources, metadata=metadata, listener=_Bar(progress, len(sources)),
                groups=refs,
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


def _queue(kb: str, files: list[Path], urls: list[str], metadata: dict[str, object] | None,
           as_json: bool, groups: list[int | str] | None) -> None:
    """Store the files and queue one job for them, and one job per URL. A file of a type no
    parser reads is refused here, as the upload API refuses it (the same check): it is
    reported, the others are queued, and the command exits 1, as a direct ingest does."""
    with open_zhiku() as zk:
        restrict = zk.permissions.resolve(groups)
        if urls and restrict is not None:
            raise InvalidInput("--groups with --background takes files only, not URLs")
        limit = zk.settings.max_file_bytes
        uploads = []
        refused: list[tuple[Path, str]] = []
        for path in files:
            try:
                zk.registry.for_name(path.name)
            except UnsupportedFormat as exc:
                refused.append((path, exc.message))
                continue
            if path.stat().st_size > limit:
                raise PayloadTooLarge(f"'{path}' is over {limit:,} bytes")
            uploads.append(Upload(str(path), path.read_bytes()))
        zk.kb(kb)
        for url in urls:  # refuse any internal address before queuing anything
            check_url(url, UrlPolicy(zk.settings.api_url_allowlist))
        jobs = [zk.jobs.submit_uploads(kb, uploads, metadata, restrict)] if uploads else []
        jobs += [zk.jobs.submit_url(kb, url, metadata) for url in urls]
    if as_json:
        print_json({"jobs": [{"id": j.id, "kind": j.kind, "status": j.status} for j in jobs],
                    "failed": [{"source": str(p), "error": e} for p, e in refused]})
    else:
        for job in jobs:
            what = job.payload.get("url") or f"{job.payload.get('files_total', 0)} file(s)"
            say(f"queued job {job.id} ({job.kind}: {what})")
        for path, error in refused:
            say(("failed", "red"), f" {path}: {error}", err=True)
    if refused:
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
