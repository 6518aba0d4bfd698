"""``zhiku jobs``: the workspace's background jobs (ingestion, re-indexing, graph builds, eval
runs): list them, show one, cancel or retry one."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from zhiku.cli.context import console, handle_errors, open_zhiku, print_json, say
from zhiku.cli.output import safe
from zhiku.jobs.queue import STATUSES, Job

app = typer.Typer(help="Background jobs: list, show, cancel, retry.", no_args_is_help=True)


def job_dict(job: Job) -> dict[str, Any]:
    """A job as printed by ``--json``."""
    p = job.payload
    return {
        "id": job.id,
        "kind": job.kind,
        "kb": p.get("kb", ""),
        "status": job.status,
        "progress": job.progress,
        "error": job.error,
        "attempts": job.attempts,
        "max_attempts": job.max_attempts,
        "files_total": p.get("files_total", 0),
        "files_done": p.get("files_done", 0),
        "files": p.get("results", []),
        "url": p.get("url"),
        "run_id": p.get("run_id"),
        "result": p.get("result"),
        "created_at": job.created_at,
        "updated_at": job.updated_at,
    }


@app.command("list")
@handle_errors
def list_jobs(
    kb: str = typer.Option(None, "--kb", help="Only the jobs of this knowledge base."),
    status: str = typer.Option(None, help="Only jobs in this status: " + ", ".join(STATUSES)),
    limit: int = typer.Option(50, min=1, max=500, help="At most this many jobs."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Recent jobs, newest first."""
    if status is not None and status not in STATUSES:
        raise typer.BadParameter(f"status is one of {', '.join(STATUSES)}")
    with open_zhiku() as zk:
        jobs = zk.jobs.list(kb, status=status, limit=limit)
    if as_json:
        print_json([job_dict(j) for j in jobs])
        return
    table = Table("id", "kind", "kb", "status", "progress", "error", "created")
    for job in jobs:
        table.add_row(str(job.id), job.kind, safe(str(job.payload.get("kb", ""))), job.status,
                      f"{job.progress:.0%}", safe(job.error or ""), job.created_at)
    console.print(table)


@app.command("show")
@handle_errors
def show(
    job_id: int = typer.Argument(..., help="The job's id."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """One job: status, progress, attempts and what happened to each file."""
    with open_zhiku() as zk:
        data = job_dict(zk.jobs.get(job_id))
    if as_json:
        print_json(data)
        return
    for key in ("id", "kind", "kb", "status", "progress", "error", "attempts", "url", "run_id",
                "created_at", "updated_at"):
        if data[key] not in (None, ""):
            say(f"{key}: {safe(str(data[key]))}")
    for f in data["files"]:
        say(f"  {safe(str(f.get('source')))}: {f.get('status')}"
            + (f" ({safe(str(f['error']))})" if f.get("error") else ""))


@app.command("cancel")
@handle_errors
def cancel(job_id: int = typer.Argument(..., help="The job's id.")) -> None:
    """Cancel a queued or running job (it ends failed, error 'cancelled')."""
    with open_zhiku() as zk:
        job = zk.jobs.cancel(job_id)
    say(f"cancelled job {job.id} ({job.kind})")


@app.command("retry")
@handle_errors
def retry(job_id: int = typer.Argument(..., help="The job's id.")) -> None:
    """Queue a failed or dead job again."""
    with open_zhiku() as zk:
        job = zk.jobs.retry(job_id)
    say(f"queued job {job.id} ({job.kind}) again")
