"""``zhiku agents create|update|publish|rollback|versions|list|show|delete|run|tools`` and the
tool sources (``zhiku agents mcp-add|openapi-add|sources|source-delete``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from zhiku.cli.context import handle_errors, open_zhiku, print_json, say
from zhiku.cli.output import safe
from zhiku.core.errors import InvalidInput

app = typer.Typer(help="Agents: a model that calls tools (knowledge search, HTTP, OpenAPI, "
                       "MCP) until it answers.", no_args_is_help=True)

CONFIG_HELP = "The agent's settings: a .json, .yaml or .yml file."


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except ValueError as exc:  # yaml.YAMLError is a ValueError subclass too
        raise InvalidInput(f"{path} is not valid JSON/YAML: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"{path} does not hold an object")
    return data


def _pairs(values: list[str] | None, what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values or []:
        key, sep, rest = value.partition("=")
        if not sep or not key:
            raise InvalidInput(f"{what} are NAME=VALUE, got '{value.split('=')[0]}'")
        out[key] = rest
    return out


@app.command("create")
@handle_errors
def create(file: Path = typer.Argument(..., help=CONFIG_HELP),
           slug: str = typer.Option(None, "--slug")) -> None:
    """Store an agent (its tools, knowledge bases and model are checked)."""
    with open_zhiku() as zk:
        agent = zk.agents.create(_read(file), slug)
    say(f"created agent {agent.slug}")


@app.command("update")
@handle_errors
def update(slug: str = typer.Argument(...),
           file: Path = typer.Argument(..., help=CONFIG_HELP)) -> None:
    """Replace a stored agent's settings."""
    with open_zhiku() as zk:
        zk.agents.update(slug, _read(file))
    say(f"updated agent {slug}")


@app.command("list")
@handle_errors
def list_agents(as_json: bool = typer.Option(False, "--json")) -> None:
    """Stored agents."""
    with open_zhiku() as zk:
        found = [a.to_dict() for a in zk.agents.list()]
    if as_json:
        print_json(found)
        return
    for a in found:
        live = f"v{a['published_version']}" if a["published_version"] else "draft"
        say(f"{a['slug']}  {live}  {a['draft']['model']}  tools: "
            f"{', '.join(a['draft']['tools']) or '-'}")


@app.command("show")
@handle_errors
def show(slug: str = typer.Argument(...)) -> None:
    """A stored agent as JSON."""
    with open_zhiku() as zk:
        print_json(zk.agents.get(slug).to_dict())


@app.command("publish")
@handle_errors
def publish(slug: str = typer.Argument(...),
            note: str = typer.Option(None, "--note")) -> None:
    """Freeze the draft as the next live version."""
    with open_zhiku() as zk:
        version = zk.releases.publish(slug, note)  # through the release gate
    say(f"published {slug} v{version}")


@app.command("rollback")
@handle_errors
def rollback(slug: str = typer.Argument(...), version: int = typer.Argument(...)) -> None:
    """Make an earlier published version live again."""
    with open_zhiku() as zk:
        zk.agents.rollback(slug, version)
    say(f"{slug} v{version} is live")


@app.command("versions")
@handle_errors
def versions(slug: str = typer.Argument(...),
             as_json: bool = typer.Option(False, "--json")) -> None:
    """The published versions, newest first."""
    with open_zhiku() as zk:
        found = zk.agents.versions(slug)
    if as_json:
        print_json(found)
        return
    for v in found:
        say(f"v{v['version']}{' (live)' if v['live'] else ''}  {v['created_at']}  "
            f"{v['note'] or ''}")


@app.command("delete")
@handle_errors
def delete(slug: str = typer.Argument(...)) -> None:
    """Delete a stored agent."""
    with open_zhiku() as zk:
        zk.agents.delete(slug)
    say(f"deleted agent {slug}")


def _print_event(event: Any) -> None:
    """Tokens as they come; steps, tool calls and stops on stderr."""
    data = event.data
    if event.type == "token":
        typer.echo(safe(data["text"]), nl=False)
    elif event.type == "step":
        say(("▶", "cyan"), f" step {data['step']}", err=True)
    elif event.type == "tool_call":
        args = json.dumps(data["arguments"], ensure_ascii=False)[:200]
        say(("⚙", "cyan"), f" {data['name']} {args}", err=True)
    elif event.type == "tool_result":
        mark = ("✓", "green") if data["ok"] else ("✗", "red")
        detail = "" if data["ok"] else f": {str(data['result'])[:200]}"
        say(mark, f" {data['name']} {data['latency_ms']:.0f} ms{detail}", err=True)
    elif event.type == "citations":
        typer.echo("")
        for c in data["citations"]:
            say(f"[{c['n']}] {c['source']}", err=True)


@app.command("run")
@handle_errors
def run(
    agent: str = typer.Argument(..., help="A stored agent's slug, or a settings file."),
    message: str = typer.Argument(...),
    draft: bool = typer.Option(False, "--draft", help="Run the draft, not the live version."),
    version: int = typer.Option(None, "--version", help="Run this published version."),
    as_json: bool = typer.Option(False, "--json", help="Events as JSON lines on stdout."),
) -> None:
    """Run an agent on a message, printing its steps and tool calls as they happen."""
    path = Path(agent)
    spec: Any = _read(path) if path.suffix.lower() in (".json", ".yaml", ".yml") else agent
    with open_zhiku() as zk:
        sink = (lambda e: print_json(e.to_dict())) if as_json else _print_event
        result = zk.agents.run(spec, message, on_event=sink, version=version, draft=draft)
    if not as_json:
        typer.echo("")
        say(f"{result.stop_reason} after {result.steps} steps, "
            f"{result.input_tokens + result.output_tokens} tokens, "
            f"{result.latency_ms:.0f} ms", err=True)
    if result.stop_reason != "answered":
        say(("error:", "red"), " ", result.error or result.stop_reason, err=True)
        raise typer.Exit(1)


@app.command("tools")
@handle_errors
def tools(source: str = typer.Argument(None, help="Only this source's tools."),
          as_json: bool = typer.Option(False, "--json")) -> None:
    """The tools agents can use: built-ins and those of the registered sources."""
    with open_zhiku() as zk:
        found = zk.agents.tools(source)
    if as_json:
        print_json(found)
        return
    for t in found:
        say(f"{t['name']}  {t['description'][:80]}")


@app.command("mcp-add")
@handle_errors
def mcp_add(
    name: str = typer.Argument(..., help="1-32 letters, digits and -; prefixes the tools."),
    command: str = typer.Option(None, "--command", help="A stdio server's program."),
    args: list[str] = typer.Option(None, "--arg", help="A program argument (repeat)."),
    url: str = typer.Option(None, "--url", help="A streamable-HTTP server's URL."),
    env: list[str] = typer.Option(None, "--env", help="NAME=VALUE for a stdio server, "
                                                      "stored encrypted (repeat)."),
    headers: list[str] = typer.Option(None, "--header", help="NAME=VALUE for an HTTP "
                                                             "server, stored encrypted."),
    connect_timeout: float = typer.Option(20.0, "--connect-timeout"),
    call_timeout: float = typer.Option(60.0, "--call-timeout"),
    replace: bool = typer.Option(False, "--replace"),
) -> None:
    """Register an MCP server."""
    with open_zhiku() as zk:
        zk.agents.add_mcp_server(name, command=command, args=args, url=url,
                                 env=_pairs(env, "--env values"),
                                 headers=_pairs(headers, "headers"), replace=replace,
                                 connect_timeout_s=connect_timeout,
                                 call_timeout_s=call_timeout, operator=True)
    say(f"registered MCP server {name}")


@app.command("openapi-add")
@handle_errors
def openapi_add(
    name: str = typer.Argument(..., help="1-32 letters, digits and -; prefixes the tools."),
    spec: Path = typer.Argument(..., help="The OpenAPI 3 document (.json, .yaml)."),
    base_url: str = typer.Option(None, "--base-url", help="Default: the spec's first server."),
    headers: list[str] = typer.Option(None, "--auth-header",
                                      help="NAME=VALUE sent with each call, stored encrypted."),
    timeout: float = typer.Option(30.0, "--timeout"),
    replace: bool = typer.Option(False, "--replace"),
) -> None:
    """Register an OpenAPI spec: each operation becomes a tool."""
    with open_zhiku() as zk:
        zk.agents.add_openapi(name, _read(spec), base_url=base_url,
                              auth_headers=_pairs(headers, "headers"), timeout_s=timeout,
                              replace=replace)
        count = len(zk.agents.tools(name))
    say(f"registered OpenAPI source {name} ({count} tools)")


@app.command("sources")
@handle_errors
def sources(as_json: bool = typer.Option(False, "--json")) -> None:
    """Registered tool sources (secrets are never shown, only their names)."""
    with open_zhiku() as zk:
        found = [s.to_dict() for s in zk.agents.sources.list()]
    if as_json:
        print_json(found)
        return
    for s in found:
        where = s["config"].get("url") or s["config"].get("command") or \
            s["config"].get("base_url") or ""
        say(f"{s['name']}  {s['kind']}  {where}")


@app.command("source-delete")
@handle_errors
def source_delete(name: str = typer.Argument(...)) -> None:
    """Remove a tool source."""
    with open_zhiku() as zk:
        zk.agents.sources.delete(name)
    say(f"deleted tool source {name}")
