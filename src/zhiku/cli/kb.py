"""``zhiku kb``: create, list, delete knowledge bases; change their settings and embedder."""

from __future__ import annotations

import json
from dataclasses import asdict

import typer
from rich.table import Table

from zhiku.cli.context import console, handle_errors, open_zhiku, print_json, say
from zhiku.cli.output import safe
from zhiku.core.errors import InvalidInput
from zhiku.kb_language import retrieval_note

app = typer.Typer(help="Manage knowledge bases.", no_args_is_help=True)


@app.command("create")
@handle_errors
def create(
    name: str,
    embedder: str = typer.Option(
        None, help="minilm (default), use-multilingual, hashing, openai:MODEL"
    ),
    chunk_tokens: int = typer.Option(None, help="Target chunk size in tokens."),
    chunk_overlap: int = typer.Option(None, help="Overlap between chunks in tokens."),
    parent_child: bool = typer.Option(False, help="Match small chunks, return their section."),
    graph: bool = typer.Option(False, "--graph", help="Extract a knowledge graph on ingest."),
    reranker: str = typer.Option(
        None, "--reranker", help="provider/model of a reranker (zhiku models add --rerank)."
    ),
    language: str = typer.Option(
        None, "--language",
        help="The documents' language: zh, en or auto. Without --embedder, zh and auto get "
        "the multilingual embedder when it is installed.",
    ),
) -> None:
    """Create a knowledge base."""
    settings: dict[str, object] = {}
    if chunk_tokens is not None:
        settings["chunk_tokens"] = chunk_tokens
    if chunk_overlap is not None:
        settings["chunk_overlap"] = chunk_overlap
    if parent_child:
        settings["parent_child"] = True
    if graph:
        settings["graph"] = True
    if reranker:
        settings["reranker"] = reranker
    if language:
        settings["language"] = language
    with open_zhiku() as zk:
        kb = zk.create_kb(name, embedder=embedder, **settings)
    say("created knowledge base ", (kb.name, "bold"), f" (embedder {kb.embedder})")
    note = retrieval_note(kb.embedder)
    if note:
        say(note)


@app.command("list")
@handle_errors
def list_(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List knowledge bases with their sizes."""
    with open_zhiku() as zk:
        rows = [(kb, zk.store.kb_stats(kb.id)) for kb in zk.list_kbs()]
    if as_json:
        print_json([{**asdict(kb), **stats} for kb, stats in rows])
        return
    table = Table("name", "embedder", "documents", "chunks", "embedded", "errors")
    for kb, stats in rows:
        counts = (stats[k] for k in ("documents", "chunks", "embedded", "error"))
        table.add_row(safe(kb.name), safe(kb.embedder), *(str(n) for n in counts))
    console.print(table)


@app.command("delete")
@handle_errors
def delete(
    name: str, yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask.")
) -> None:
    """Delete a knowledge base and everything in it."""
    if not yes:
        typer.confirm(f"Delete knowledge base '{name}' and all its documents?", abort=True)
    with open_zhiku() as zk:
        zk.delete_kb(name)
    say("deleted knowledge base ", (name, "bold"))


@app.command("set-embedder")
@handle_errors
def set_embedder(name: str, embedder: str) -> None:
    """Re-embed a knowledge base with another model (search uses the old one meanwhile)."""
    with open_zhiku() as zk:
        report = zk.set_embedder(name, embedder)
    say(f"re-embedded {report.chunks_embedded} chunks; now using {embedder}")


@app.command("reanalyze")
@handle_errors
def reanalyze(
    name: str = typer.Argument(None, help="The knowledge base (default: every one)."),
) -> None:
    """Re-index full-text terms written by an earlier analyzer (a knowledge base indexed
    before Traditional and Simplified Chinese were folded together). Text and vectors stay."""
    with open_zhiku() as zk:
        names = [name] if name else [kb.name for kb in zk.list_kbs()]
        for kb_name in names:
            done = zk.reanalyze(kb_name)
            say((kb_name, "bold"), f": {done} chunks re-indexed")


@app.command("set-graph")
@handle_errors
def set_graph(name: str, enabled: bool = typer.Argument(True, help="true or false")) -> None:
    """Turn knowledge-graph extraction during ingestion on or off (then `zhiku graph build`)."""
    with open_zhiku() as zk:
        zk.update_kb_settings(name, graph=enabled)
    say("graph extraction for ", (name, "bold"), f": {'on' if enabled else 'off'}")


@app.command("settings")
@handle_errors
def settings(
    name: str,
    changes: list[str] = typer.Argument(
        None, help="key=value (chunk_tokens, chunk_overlap, parent_child, graph, reranker, "
        "rerank_top_n); key= unsets one."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show a knowledge base's settings, or change them (for documents ingested from then on)."""
    from zhiku.kb_settings import parse_setting

    parsed: dict[str, object] = {}
    for change in changes or []:
        key, sep, value = change.partition("=")
        if not sep:
            raise InvalidInput(f"'{change}' is not key=value")
        parsed[key.strip()] = parse_setting(key.strip(), value.strip())
    with open_zhiku() as zk:
        kb = zk.update_kb_settings(name, **parsed) if parsed else zk.kb(name)
    if as_json:
        print_json(kb.settings)
        return
    for key, value in sorted(kb.settings.items()):
        say(f"{key} = ", (safe(json.dumps(value, ensure_ascii=False)), "bold"))
    if not kb.settings:
        say("no settings of its own: the server's defaults apply")
