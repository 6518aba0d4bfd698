"""``zhiku workflows create|update|validate|publish|delete|list|show|run|replay|runs``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from zhiku.cli.context import handle_errors, open_zhiku, print_json, say
from zhiku.core.errors import InvalidInput

app = typer.Typer(help="Workflows: graphs of retrieval, model, branch and tool nodes.",
                  no_args_is_help=True)
runs_app = typer.Typer(help="Recorded workflow runs.", no_args_is_help=True)
app.add_typer(runs_app, name="runs")

FILE_HELP = "The definition: a .json, .yaml or .yml file."


@app.command("create")
@handle_errors
def create(
    file: Path = typer.Argument(..., help=FILE_HELP),
    name: str = typer.Option(None, "--name", help="Display name (default: the file's stem)."),
    slug: str = typer.Option(None, "--slug"),
    publish: bool = typer.Option(False, "--publish", help="Publish version 1 at once."),
) -> None:
    """Create a workflow from a definition file (validated first)."""
    from zhiku.workflows.service import read_definition

    with open_zhiku() as zk:
        created = zk.workflows.create(name or file.stem, read_definition(file), slug)
        suffix = ""
        if publish:
            suffix = f" (published v{zk.workflows.publish(created.slug)})"
    say(f"created workflow {created.slug}{suffix}")


@app.command("update")
@handle_errors
def update(
    slug: str = typer.Argument(...),
    file: Path = typer.Argument(None, help=FILE_HELP),
    name: str = typer.Option(None, "--name"),
) -> None:
    """Replace a workflow's draft with a definition file, and/or rename it."""
    from zhiku.workflows.service import read_definition

    with open_zhiku() as zk:
        zk.workflows.update(slug, read_definition(file) if file else None, name)
    say(f"updated draft of {slug}")


@app.command("validate")
@handle_errors
def validate(
    file: Path = typer.Argument(..., help=FILE_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the problems as JSON."),
) -> None:
    """Check a definition file; each problem names its node and field (exit 2 if any)."""
    from zhiku.workflows.schema import WorkflowInvalid
    from zhiku.workflows.service import read_definition

    try:
        definition: Any = read_definition(file)
    except WorkflowInvalid as exc:
        definition = exc
    with open_zhiku() as zk:
        found = definition.problems if isinstance(definition, WorkflowInvalid) \
            else zk.workflows.problems(definition)
    if as_json:
        print_json([p.model_dump() for p in found])
    elif found:
        for p in found:
            say(("error:", "red"), " ", str(p), err=True)
    else:
        say(f"{file}: valid")
    if found:
        raise typer.Exit(2)


@app.command("publish")
@handle_errors
def publish(slug: str = typer.Argument(...), note: str = typer.Option(None, "--note")) -> None:
    """Freeze a workflow's draft as its next live version."""
    with open_zhiku() as zk:
        version = zk.releases.publish(slug, note)  # through the release gate
    say(f"published {slug} v{version}")


@app.command("delete")
@handle_errors
def delete(
    slug: str = typer.Argument(...),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask."),
) -> None:
    """Delete a workflow with its versions and recorded runs."""
    if not yes:
        typer.confirm(f"Delete workflow '{slug}' with its versions and runs?", abort=True)
    with open_zhiku() as zk:
        zk.workflows.delete(slug)
    say("deleted workflow ", (slug, "bold"))


@app.command("list")
@handle_errors
def list_(as_json: bool = typer.Option(False, "--json")) -> None:
    """List the workflows of the workspace."""
    with open_zhiku() as zk:
        items = zk.workflows.list()
    if as_json:
        print_json([w.to_dict() for w in items])
        return
    for w in items:
        live = f"v{w.published_version}" if w.published_version else "draft"
        say((w.slug, "bold"), f"  {w.name}  {live}  {len(w.draft.nodes)} nodes")


@app.command("show")
@handle_errors
def show(
    slug: str = typer.Argument(...),
    yaml: bool = typer.Option(False, "--yaml", help="Print the draft definition as YAML."),
) -> None:
    """Show a workflow (or, with --yaml, its draft definition)."""
    with open_zhiku() as zk:
        found = zk.workflows.get(slug)
    if yaml:
        typer.echo(found.draft.to_yaml(), nl=False)
    else:
        print_json(found.to_dict())


def parse_inputs(pairs: list[str] | None, raw: str | None, types: dict[str, str]) -> dict[str, Any]:
    """``--inputs`` JSON, then each ``-i name=value`` (a value parsed as JSON unless the input
    is declared a string)."""
    values: dict[str, Any] = {}
    if raw:
        try:
            loaded = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"--inputs is not valid JSON: {exc}") from None
        if not isinstance(loaded, dict):
            raise InvalidInput("--inputs is a JSON object")
        values.update(loaded)
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep:
            raise InvalidInput(f"-i takes name=value, not {pair!r}")
        if types.get(name, "string") == "string":
            values[name] = value
        else:
            try:
                values[name] = json.loads(value)
            except json.JSONDecodeError:
                values[name] = value
    return values


def _print_event(event: Any) -> None:
    """One line per event; model tokens are written as they come."""
    node = event.node_id or ""
    data = event.data
    if event.type == "token":
        typer.echo(data["text"], nl=False)
    elif event.type == "node_started":
        say(("▶", "cyan"), f" {node} ({data['node_type']})", err=True)
    elif event.type == "node_finished":
        tokens = data["input_tokens"] + data["output_tokens"]
        extra = f", {tokens} tokens" if tokens else ""
        say(("✓", "green"), f" {node} {data['latency_ms']:.1f} ms{extra}", err=True)
    elif event.type == "node_skipped":
        say(("-", "dim"), f" {node} skipped", err=True)
    elif event.type == "node_retry":
        say(("↻", "yellow"), f" {node} attempt {data['attempt']} failed: {data['error']}",
            err=True)
    elif event.type == "node_failed":
        say(("✗", "red"), f" {node}: {data['error']}", err=True)
    elif event.type == "citations":
        for c in data["citations"]:
            say(f"[{c.get('n', '?')}] {c.get('source', '')}", err=True)


def _finish(run: Any, as_json: bool) -> None:
    result = run.result
    if not as_json:  # JSON lines end with the run_finished event
        typer.echo("")
        say(f"run {run.id}: {result.status} in {result.latency_ms:.0f} ms", err=True)
        print_json(result.outputs)
    if result.status != "succeeded":
        say(("error:", "red"), " ", result.error or result.status, err=True)
        raise typer.Exit(1)


@app.command("run")
@handle_errors
def run(
    slug: str = typer.Argument(...),
    inputs: list[str] = typer.Option(None, "--input", "-i", help="name=value (repeat)."),
    inputs_json: str = typer.Option(None, "--inputs", help="All inputs as a JSON object."),
    draft: bool = typer.Option(False, "--draft", help="Run the draft, not the live version."),
    version: int = typer.Option(None, "--version", help="Run this published version."),
    as_json: bool = typer.Option(False, "--json", help="Events as JSON lines on stdout."),
) -> None:
    """Run a workflow, printing its events as they stream, then its outputs."""
    with open_zhiku() as zk:
        workflow = zk.workflows.get(slug)
        start = (workflow.draft if draft or not workflow.published else workflow.live).start
        types: dict[str, str] = {i.name: i.type for i in (start.inputs if start else [])}
        values = parse_inputs(inputs, inputs_json, types)
        sink = (lambda e: print_json(e.to_dict())) if as_json else _print_event
        done = zk.workflows.run(slug, values, version=version, draft=draft, on_event=sink)
    _finish(done, as_json)


@app.command("replay")
@handle_errors
def replay(
    run_id: int = typer.Argument(...),
    as_json: bool = typer.Option(False, "--json", help="Events as JSON lines on stdout."),
) -> None:
    """Run a recorded run again: the same definition, the same inputs."""
    with open_zhiku() as zk:
        sink = (lambda e: print_json(e.to_dict())) if as_json else _print_event
        done = zk.workflows.replay(run_id, sink)
    _finish(done, as_json)


@runs_app.command("list")
@handle_errors
def runs_list(
    slug: str = typer.Argument(None, help="Only this workflow's runs."),
    limit: int = typer.Option(20, "--limit"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List recorded runs, newest first."""
    with open_zhiku() as zk:
        found = zk.workflows.runs(slug, limit)
    if as_json:
        print_json(found)
        return
    for r in found:
        version = f"v{r['version']}" if r["version"] else "draft"
        say((str(r["id"]), "bold"), f"  {r['workflow']} {version}  {r['status']}  "
            f"{r['latency_ms'] or 0:.0f} ms  {r['input_tokens'] + r['output_tokens']} tokens  "
            f"{r['started_at']}")


@runs_app.command("show")
@handle_errors
def runs_show(run_id: int = typer.Argument(...)) -> None:
    """Show a recorded run with each node's inputs, outputs, timing, tokens and error."""
    with open_zhiku() as zk:
        print_json(zk.workflows.get_run(run_id))
