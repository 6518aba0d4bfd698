"""``zhiku apps``: every kind of app (``list``, ``run``, ``publish``, ``rollback``,
``versions``), assistants (``create``, ``update``, ``show``) and the release commands of
``cli/releases.py``."""

from __future__ import annotations

import json
from typing import Any, Literal

import typer

from zhiku.cli import releases
from zhiku.cli.context import handle_errors, open_zhiku, print_json, say
from zhiku.cli.workflows import parse_inputs
from zhiku.core.errors import InvalidInput, NotFound

ON_UNGROUNDED_HELP = (
    "A model answer without a valid citation: warn (kept, marked ungrounded), extractive "
    "(replaced by the extractive answer) or refuse."
)
RERANKER_HELP = "provider/model of a reranker (default: the knowledge base's)."
app = typer.Typer(help="Apps of every kind (assistants, workflows, agents): list, run, "
                  "publish, roll back.", no_args_is_help=True)


def _retrieval(top_k: int | None, threshold: float | None, fusion: str | None,
               filter_: str | None, reranker: str | None = None) -> dict[str, object]:
    out: dict[str, object] = {}
    if reranker is not None:
        out["reranker"] = reranker
    if top_k is not None:
        out["top_k"] = top_k
    if threshold is not None:
        out["min_relevance"] = threshold
    if fusion is not None:
        out["fusion"] = fusion
    if filter_:
        try:
            out["filters"] = json.loads(filter_)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"--filter is not valid JSON: {exc}") from exc
    return out


@app.command("create")
@handle_errors
def create(
    name: str = typer.Argument(...),
    kb: list[str] = typer.Option(..., "--kb", help="Knowledge base (repeat)."),
    model: str = typer.Option(
        None, "--model", "-m", help="provider/model (default: the workspace's default chat "
        "model, see zhiku models default; 'extractive': no LLM)."
    ),
    fallback: list[str] = typer.Option(None, "--fallback", help="Fallback provider/model."),
    system_prompt: str = typer.Option(None, "--system-prompt"),
    top_k: int = typer.Option(None, "--top-k"),
    threshold: float = typer.Option(None, "--threshold", help="Minimum relevance (0-1)."),
    fusion: str = typer.Option(None, "--fusion", help="rrf or weighted"),
    filter_: str = typer.Option(None, "--filter", help="JSON search filters."),
    temperature: float = typer.Option(None, "--temperature"),
    refusal: str = typer.Option(None, "--refusal", help="What to say when the KB has nothing."),
    citation_style: str = typer.Option(None, "--citation-style", help="inline or hidden"),
    on_ungrounded: str = typer.Option(None, "--on-ungrounded", help=ON_UNGROUNDED_HELP),
    reranker: str = typer.Option(None, "--reranker", help=RERANKER_HELP),
    publish: bool = typer.Option(False, "--publish", help="Publish version 1 at once."),
) -> None:
    """Create an assistant."""
    config: dict[str, Any] = {
        "knowledge_bases": kb, "model": model, "fallback_models": fallback or [],
        "system_prompt": system_prompt, "temperature": temperature, "refusal_message": refusal,
        "citation_style": citation_style, "on_ungrounded": on_ungrounded,
        "retrieval": _retrieval(top_k, threshold, fusion, filter_, reranker),
    }
    with open_zhiku() as zk:
        created = zk.create_assistant(name, **{k: v for k, v in config.items() if v is not None})
        version = zk.publish_assistant(created.slug) if publish else None
    suffix = f", published v{version}" if version else " (draft)"
    say(f"created assistant {created.slug}{suffix}")


@app.command("update")
@handle_errors
def update(
    slug: str = typer.Argument(...),
    model: str = typer.Option(None, "--model", "-m"),
    system_prompt: str = typer.Option(None, "--system-prompt"),
    top_k: int = typer.Option(None, "--top-k"),
    threshold: float = typer.Option(None, "--threshold"),
    temperature: float = typer.Option(None, "--temperature"),
    refusal: str = typer.Option(None, "--refusal"),
    on_ungrounded: str = typer.Option(None, "--on-ungrounded", help=ON_UNGROUNDED_HELP),
    reranker: str = typer.Option(None, "--reranker", help=RERANKER_HELP),
) -> None:
    """Edit the draft (publish to make it live)."""
    changes: dict[str, object] = {"model": model, "system_prompt": system_prompt,
                                  "temperature": temperature, "refusal_message": refusal,
                                  "on_ungrounded": on_ungrounded}
    changes = {k: v for k, v in changes.items() if v is not None}
    retrieval = _retrieval(top_k, threshold, None, None, reranker)
    if retrieval:
        changes["retrieval"] = retrieval
    with open_zhiku() as zk:
        zk.update_assistant(slug, **changes)
    say(f"updated draft of {slug}")


@app.command("publish")
@handle_errors
def publish(
    slug: str = typer.Argument(...),
    note: str = typer.Option(None, "--note"),
    force: bool = typer.Option(False, "--force",
                               help="Publish even if the eval gate finds the draft worse."),
    reason: str = typer.Option(None, "--reason", help="Why it is forced (recorded)."),
) -> None:
    """Freeze an app's draft as a new version and make it live (any kind of app; one bound
    to an eval set is checked on it first)."""
    with open_zhiku() as zk:
        try:
            version = zk.apps.publish(slug, note, force=force, reason=reason,
                                      actor=releases.actor())
        except NotFound:  # an assistant may also be named by its name
            version = zk.publish_assistant(slug, note, force=force, reason=reason,
                                           actor=releases.actor())
    say(f"published {slug} v{version}")


@app.command("rollback")
@handle_errors
def rollback(
    slug: str = typer.Argument(...),
    version: int = typer.Argument(None, min=1, help="Default: the version before live."),
    to: int = typer.Option(None, "--to", min=1, help="The same as VERSION."),
) -> None:
    """Make an earlier published version live again (no new version; the draft stays)."""
    with open_zhiku() as zk:
        live = zk.apps.rollback(slug, version or to).live_version
    say(f"{slug}: v{live} is live")


@app.command("versions")
@handle_errors
def versions(slug: str = typer.Argument(...),
             as_json: bool = typer.Option(False, "--json")) -> None:
    """An app's published versions, newest first (* marks the live one)."""
    with open_zhiku() as zk:
        found = zk.apps.versions(slug)
    if as_json:
        print_json(found)
        return
    for v in found:
        release: dict[str, Any] | None = v.get("release")
        parts = [f"v{v['version']}", "live" if v["live"] else "", v["created_at"],
                 v["note"] or ""]
        if release and release.get("forced_by"):
            parts.append(f"forced by {release['forced_by']}: {release['force_reason']}")
        elif release:
            parts.append(f"checked on '{release['eval_set']}'")
        say(("*" if v["live"] else " ", "green"), " " + "  ".join(p for p in parts if p))


@app.command("list")
@handle_errors
def list_(as_json: bool = typer.Option(False, "--json")) -> None:
    """Apps of every kind: kind, live version (or draft), draft state; an assistant's model
    and knowledge bases."""
    with open_zhiku() as zk:
        items = zk.apps.list()
        assistants = {a.slug: a for a in zk.list_assistants()}
    if as_json:
        print_json([a.to_dict() for a in items])
        return
    for a in items:
        live = f"v{a.live_version}" if a.live_version else "draft"
        changed = "  (draft changed)" if a.state == "changed" else ""
        line = f"  {a.kind}  {a.name}  {live}{changed}"
        if a.kind == "assistant" and a.slug in assistants:
            config = assistants[a.slug].live
            line += f"  model {config.model or 'extractive'}  kbs " \
                    f"{', '.join(config.knowledge_bases)}"
        say((a.slug, "bold"), line)


@app.command("run")
@handle_errors
def run(
    slug: str = typer.Argument(...),
    inputs: list[str] = typer.Option(
        None, "--input", "-i",
        help="name=value (repeat): an assistant's or agent's query, a workflow's inputs."),
    as_json: bool = typer.Option(False, "--json", help="The result (or, with --stream, each "
                                 "event) as JSON."),
    stream: bool = typer.Option(False, "--stream", help="Print the answer as it comes."),
) -> None:
    """Run an app's live version: its answer, then its citations."""
    with open_zhiku() as zk:
        types = {"query": "string"}
        if zk.apps.kind(slug) == "workflow":
            start = zk.workflows.get(slug).live.start
            types = {i.name: i.type for i in (start.inputs if start else [])}
        events = zk.apps.stream(slug, parse_inputs(inputs, None, types))
        for event in events:
            if stream and as_json:
                print_json(event.to_dict())
            elif stream and event.type == "token":
                typer.echo(event.data["text"], nl=False)
        result = events.result
    if result is None:  # the stream ends with its result or raises
        raise typer.Exit(1)
    if as_json and not stream:
        print_json(result.to_dict())
    elif not as_json:
        typer.echo("" if stream else result.output)
        for c in result.citations:
            say(f"[{c.get('n', '?')}] {c.get('source', '')}", err=True)
        say(f"{result.kind} run {result.run_id}: {result.status}, "
            f"{result.input_tokens + result.output_tokens} tokens", err=True)
    if result.status != "succeeded":
        say(("error:", "red"), " ", result.error or result.status, err=True)
        raise typer.Exit(1)


@app.command("show")
@handle_errors
def show(slug: str = typer.Argument(...)) -> None:
    """An assistant's draft and live configuration as JSON."""
    with open_zhiku() as zk:
        print_json(zk.get_assistant(slug).to_dict())


@app.command("runs")
@handle_errors
def runs(slug: str = typer.Argument(...), limit: int = typer.Option(20, "--limit"),
         offset: int = typer.Option(0, "--offset"),
         as_json: bool = typer.Option(False, "--json")) -> None:
    """An app's runs, newest first: a workflow's or agent's runs, an assistant's turns."""
    with open_zhiku() as zk:
        found = zk.apps.runs(slug, limit=limit, offset=offset)
    if as_json:
        print_json(found)
        return
    for r in found:
        shown = r["input"] if isinstance(r["input"], str) else json.dumps(
            r["input"], ensure_ascii=False)
        say((f"#{r['id']}", "bold"), f"  {r['started_at']}  {r['status']}  {shown[:60]}")


@app.command("usage")
@handle_errors
def usage(slug: str = typer.Argument(None, help="Only this app (default: every app)."),
          bucket: Literal["day", "hour"] = typer.Option(None, "--bucket", help="day or hour"),
          since: str = typer.Option(None, "--since", help="ISO date or time."),
          until: str = typer.Option(None, "--until", help="ISO date or time (exclusive)."),
          as_json: bool = typer.Option(False, "--json")) -> None:
    """Requests, tokens and cost per app (and per day or hour)."""
    if bucket is not None and bucket not in ("day", "hour"):
        raise InvalidInput("--bucket is day or hour")
    with open_zhiku() as zk:
        rows = zk.apps.usage(slug, bucket=bucket, since=since, until=until)
    if as_json:
        print_json(rows)
        return
    for r in rows:
        when = f"{r['bucket']}  " if r["bucket"] else ""
        say((r["app"], "bold"), f"  {when}{r['kind']}  {r['requests']} requests  "
            f"{r['input_tokens'] + r['output_tokens']} tokens  cost {r['cost']:.6f}")


releases.add_app_commands(app)
