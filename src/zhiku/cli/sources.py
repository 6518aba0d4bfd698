"""``zhiku sources``: the folders, sites and other stores knowledge bases are synced from: list,
add, update, show, sync, runs, remove."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from zhiku.cli.context import console, handle_errors, open_zhiku, print_json, say
from zhiku.cli.output import safe

if TYPE_CHECKING:
    from zhiku.connectors.store import Source, SyncRun

app = typer.Typer(help="Sources: keep knowledge bases in step with folders, sites and stores.",
                  no_args_is_help=True)

KB_OPTION = typer.Option(None, "--kb", help="The source's knowledge base (when its name is not "
                         "unique).")


def _value(text: str) -> Any:
    """A ``--set`` value: JSON when it parses (numbers, lists, true/false), else the text."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _pairs(pairs: list[str], what: str) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not key:
            raise typer.BadParameter(f"{what} takes key=value, not '{pair}'")
        out.append((key, value if sep else None))
    return out


def _run_line(run: SyncRun) -> None:
    say(f"run {run.id}: {run.status} — {run.added} added, {run.updated} updated, "
        f"{run.unchanged} unchanged, {run.removed} removed, {run.failed} failed")
    if run.error:
        say(("note:" if run.status == "stopped" else "error:", "yellow"), " ", run.error)
    for err in run.errors[:10]:
        say("  ", (err["item"], "red"), ": ", err["error"])


@app.command("list")
@handle_errors
def list_sources(kb: str = typer.Option(None, "--kb", help="Only this knowledge base's."),
                 as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """The sources of every knowledge base (or of one)."""
    with open_zhiku() as zk:
        sources = zk.sources.list(kb)
        last = {s.id: next(iter(zk.sources.store.runs(s.id, 1)), None) for s in sources}
    if as_json:
        print_json([{**s.to_dict(), "last_run": r.to_dict() if (r := last[s.id]) else None}
                    for s in sources])
        return
    table = Table("id", "kb", "name", "kind", "schedule", "enabled", "last run")
    for s in sources:
        run = last[s.id]
        table.add_row(str(s.id), safe(s.kb), safe(s.name), s.kind, safe(s.schedule or ""),
                      "yes" if s.enabled else "no",
                      f"{run.status} {run.finished_at or run.created_at}" if run else "")
    console.print(table)


@app.command("add")
@handle_errors
def add(
    name: str = typer.Argument(..., help="The source's name in its knowledge base."),
    kind: str = typer.Option(..., "--kind", help="folder, web, s3, webdav, git, sql or a "
                             "plug-in's kind."),
    kb: str = typer.Option(..., "--kb", help="The knowledge base it fills."),
    settings: list[str] = typer.Option([], "--set", help="A setting, key=value (JSON values "
                                       "such as lists are parsed); repeatable."),
    config: str = typer.Option(None, "--config", help="Every setting as one JSON object."),
    secrets: list[str] = typer.Option([], "--secret", help="A secret, key=value, or key alone "
                                      "to be asked for it; repeatable."),
    schedule: str = typer.Option(None, "--schedule", help="Sync on this cron schedule (UTC), "
                                 "e.g. '0 3 * * *'."),
    max_delete_share: float = typer.Option(None, "--max-delete-share", min=0.0, max=1.0,
                                           help="Stop a run that would remove more than this "
                                           "share of the documents."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Add a source to a knowledge base (then `zhiku sources sync NAME`)."""
    values: dict[str, Any] = {}
    if config:
        try:
            loaded = json.loads(config)
        except ValueError as exc:
            raise typer.BadParameter(f"--config is not JSON: {exc}") from None
        if not isinstance(loaded, dict):
            raise typer.BadParameter("--config is a JSON object")
        values.update(loaded)
    for key, value in _pairs(settings, "--set"):
        values[key] = _value(value or "")
    given: dict[str, str] = {}
    for key, value in _pairs(secrets, "--secret"):
        given[key] = value if value is not None else typer.prompt(key, hide_input=True)
    with open_zhiku() as zk:
        source = zk.sources.add(kb, name, kind, values, given, schedule=schedule,
                                max_delete_share=max_delete_share, created_by="cli")
    if as_json:
        print_json(source.to_dict())
        return
    say(("added", "green"), f" source {source.id} '{source.name}' ({source.kind}) to "
        f"'{source.kb}'" + (f", next sync {source.next_run_at}" if source.next_run_at else ""))


@app.command("update")
@handle_errors
def update(
    source: str = typer.Argument(..., help="Source id or name."),
    kb: str = KB_OPTION,
    settings: list[str] = typer.Option([], "--set", help="Change a setting, key=value; "
                                       "repeatable."),
    secrets: list[str] = typer.Option([], "--secret", help="Replace the secrets: key=value, or "
                                      "key alone to be asked; repeatable."),
    schedule: str = typer.Option(None, "--schedule", help="A new cron schedule (UTC); 'none' "
                                 "stops scheduled runs."),
    max_delete_share: float = typer.Option(None, "--max-delete-share", min=0.0, max=1.0,
                                           help="A new removal limit."),
    enabled: bool = typer.Option(None, "--enable/--disable", help="Run on schedule or not."),
) -> None:
    """Change a source's settings, secrets, schedule, removal limit or whether it runs."""
    changes: dict[str, Any] = {}
    if settings:
        changes["config"] = {k: _value(v or "") for k, v in _pairs(settings, "--set")}
    if secrets:
        changes["secrets"] = {k: v if v is not None else typer.prompt(k, hide_input=True)
                              for k, v in _pairs(secrets, "--secret")}
    if schedule is not None:
        changes["schedule"] = None if schedule.lower() == "none" else schedule
    if max_delete_share is not None:
        changes["max_delete_share"] = max_delete_share
    if enabled is not None:
        changes["enabled"] = enabled
    with open_zhiku() as zk:
        _show(zk.sources.update(source, kb, **changes))


def _show(source: Source) -> None:
    say((source.name, "bold"), f" (id {source.id}, {source.kind}) in '{source.kb}'")
    say(f"settings: {json.dumps(source.config, ensure_ascii=False)}")
    if source.secret_names:
        say(f"secrets: {', '.join(source.secret_names)} (stored encrypted)")
    say(f"schedule: {source.schedule or 'none'}"
        + (f", next {source.next_run_at}" if source.next_run_at else ""))
    if source.max_delete_share is not None:
        say(f"removal limit: {source.max_delete_share:.0%}")
    if not source.enabled:
        say(("disabled", "yellow"))


@app.command("show")
@handle_errors
def show(source: str = typer.Argument(..., help="Source id or name."), kb: str = KB_OPTION,
         as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """A source's settings (never its secrets) and its last run."""
    with open_zhiku() as zk:
        found = zk.sources.get(source, kb)
        runs = zk.sources.runs(found.id, limit=1)
    if as_json:
        print_json({**found.to_dict(), "last_run": runs[0].to_dict() if runs else None})
        return
    _show(found)
    if runs:
        _run_line(runs[0])


@app.command("sync")
@handle_errors
def sync(
    source: str = typer.Argument(..., help="Source id or name."),
    kb: str = KB_OPTION,
    allow_deletes: bool = typer.Option(False, "--allow-deletes", help="Remove the documents "
                                       "of vanished items even past the removal limit."),
    background: bool = typer.Option(False, "--background", help="Queue the run for a worker "
                                    "(`zhiku worker`, `zhiku serve`) instead of running it "
                                    "here."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Sync a source now: new and changed items are ingested, vanished ones removed."""
    with open_zhiku() as zk:
        run = zk.sources.sync(source, kb, allow_deletes=allow_deletes, requested_by="cli",
                              wait=not background)
    if as_json:
        print_json(run.to_dict())
    elif background:
        say(f"queued run {run.id} (job {run.job_id})")
    else:
        _run_line(run)
    if run.status == "failed":
        raise typer.Exit(1)


@app.command("runs")
@handle_errors
def runs(source: str = typer.Argument(..., help="Source id or name."), kb: str = KB_OPTION,
         limit: int = typer.Option(20, min=1, max=500, help="At most this many runs."),
         as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """A source's runs, newest first, with their counts."""
    with open_zhiku() as zk:
        found = zk.sources.runs(source, kb, limit)
    if as_json:
        print_json([r.to_dict() for r in found])
        return
    table = Table("run", "status", "origin", "added", "updated", "unchanged", "removed",
                  "failed", "started", "finished", "error")
    for r in found:
        table.add_row(str(r.id), r.status, r.origin, str(r.added), str(r.updated),
                      str(r.unchanged), str(r.removed), str(r.failed), r.started_at or "",
                      r.finished_at or "", safe(r.error or ""))
    console.print(table)


@app.command("remove")
@handle_errors
def remove(
    source: str = typer.Argument(..., help="Source id or name."),
    kb: str = KB_OPTION,
    keep_documents: bool = typer.Option(False, "--keep-documents", help="Keep the documents "
                                        "the source brought in."),
) -> None:
    """Remove a source and (unless --keep-documents) the documents it brought in."""
    with open_zhiku() as zk:
        gone = zk.sources.remove(source, kb, keep_documents=keep_documents)
    say(("removed", "green"), f" source '{gone.name}' from '{gone.kb}'")
