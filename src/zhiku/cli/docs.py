"""``zhiku docs``: list and remove documents, edit their tags and metadata, edit chunks."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict

import typer
from rich.table import Table

from zhiku.cli.context import console, handle_errors, open_zhiku, print_json, say
from zhiku.cli.output import safe
from zhiku.core.errors import InvalidInput
from zhiku.store.doc_query import SORT_COLUMNS, DocumentQuery
from zhiku.store.records import Chunk

app = typer.Typer(help="Manage the documents of a knowledge base.", no_args_is_help=True)
chunk_app = typer.Typer(help="Show, edit, disable and enable a chunk.", no_args_is_help=True)
app.add_typer(chunk_app, name="chunk")


@app.command("list")
@handle_errors
def list_(
    kb: str = typer.Option(..., "--kb"),
    status: str = typer.Option(None, help="Only documents with this status: parsed, ready, error."),
    tag: str = typer.Option(None, help="Only documents with this tag."),
    q: str = typer.Option(None, "--q", help="Only documents whose source or title contains this."),
    sort: str = typer.Option(
        "name", help="Order by name, created, size, chunks, status or format; -KEY descends."
    ),
    limit: int = typer.Option(None, min=1, help="At most this many documents."),
    offset: int = typer.Option(0, min=0, help="Skip this many first."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List documents with their status and errors (a page of them with --limit/--offset)."""
    key = sort.removeprefix("-")
    if key not in SORT_COLUMNS:
        raise InvalidInput(f"sort by one of {', '.join(SORT_COLUMNS)}")
    query = DocumentQuery(status=status, tag=tag, text=q, sort=key,  # type: ignore[arg-type]
                          descending=sort.startswith("-"), limit=limit, offset=offset)
    with open_zhiku() as zk:
        page = zk.kbdocs.page(kb, query)
    if as_json:
        print_json([asdict(d) for d in page.documents])
        return
    table = Table("id", "source", "status", "chunks", "error")
    for d in page.documents:
        table.add_row(str(d.id), safe(d.source), d.status, str(d.chunk_count), safe(d.error or ""))
    console.print(table)
    if len(page.documents) < page.total:
        shown = f"{offset + 1}-{offset + len(page.documents)}" if page.documents else "none"
        say(f"{shown} of {page.total} documents")


@app.command("rm")
@handle_errors
def rm(
    refs: list[str] = typer.Argument(..., help="Document ids or sources."),
    kb: str = typer.Option(..., "--kb"),
) -> None:
    """Delete documents with their chunks, vectors and full-text rows."""
    with open_zhiku() as zk:
        for ref in refs:
            doc = zk.delete_document(kb, ref)
            say(f"deleted {doc.id} {doc.source}")


@app.command("tag")
@handle_errors
def tag(
    ref: str = typer.Argument(..., help="Document id or source."),
    tags: list[str] = typer.Argument(None, help="The document's tags (replacing its own)."),
    kb: str = typer.Option(..., "--kb"),
    clear: bool = typer.Option(False, "--clear", help="Remove every tag."),
) -> None:
    """Show a document's tags, or replace them (search filters see them at once)."""
    if clear and tags:
        raise InvalidInput("give tags or --clear, not both")
    with open_zhiku() as zk:
        doc = (zk.set_document_metadata(kb, ref, tags=tags or [])
               if tags or clear else zk.document(kb, ref))
    say(f"{doc.id} {safe(doc.source)}: ", safe(", ".join(doc.metadata.get("tags") or []) or "-"))


@app.command("meta")
@handle_errors
def meta(
    ref: str = typer.Argument(..., help="Document id or source."),
    changes: list[str] = typer.Argument(
        None, help="key=value (a JSON value, else text); key= removes the key."
    ),
    kb: str = typer.Option(..., "--kb"),
) -> None:
    """Show a document's metadata as JSON, or change some of its keys."""
    with open_zhiku() as zk:
        doc = zk.document(kb, ref)
        if changes:
            merged = dict(doc.metadata)
            for change in changes:
                key, sep, value = change.partition("=")
                if not sep or not key:
                    raise InvalidInput(f"'{change}' is not key=value")
                if value == "":
                    merged.pop(key, None)
                else:
                    merged[key] = _json_or_text(value)
            doc = zk.set_document_metadata(kb, doc.id, merged)
    print_json(doc.metadata)


def _json_or_text(value: str) -> object:
    try:
        return json.loads(value)
    except ValueError:
        return value


def _show(chunk: Chunk) -> None:
    state = "enabled" if chunk.enabled else "disabled"
    heading = " > ".join(chunk.heading_path)
    say(f"chunk {chunk.id} of document {chunk.document_id} ({state}, "
        f"{chunk.token_count} tokens){': ' + safe(heading) if heading else ''}")
    say(safe(chunk.text))


@chunk_app.command("show")
@handle_errors
def chunk_show(
    chunk_id: int = typer.Argument(...),
    kb: str = typer.Option(..., "--kb"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Show one chunk."""
    with open_zhiku() as zk:
        chunk = zk.chunk(kb, chunk_id)
    if as_json:
        print_json(asdict(chunk))
        return
    _show(chunk)


@chunk_app.command("edit")
@handle_errors
def chunk_edit(
    chunk_id: int = typer.Argument(...),
    text: str = typer.Argument(..., help="The new text; - reads it from standard input."),
    kb: str = typer.Option(..., "--kb"),
    embed: bool = typer.Option(True, "--embed/--no-embed",
                               help="Embed the new text now (else at the next ingest)."),
) -> None:
    """Replace a chunk's text; it is re-indexed at once and re-embedded."""
    new = sys.stdin.read() if text == "-" else text
    with open_zhiku() as zk:
        chunk = zk.edit_chunk(kb, chunk_id, new)
        if embed and chunk.searchable:
            zk.embed_pending(kb)
    _show(chunk)


@chunk_app.command("disable")
@handle_errors
def chunk_disable(chunk_id: int = typer.Argument(...), kb: str = typer.Option(..., "--kb")) -> None:
    """Disable a chunk: search never returns it."""
    with open_zhiku() as zk:
        zk.set_chunk_enabled(kb, chunk_id, False)
    say(f"chunk {chunk_id} disabled")


@chunk_app.command("enable")
@handle_errors
def chunk_enable(chunk_id: int = typer.Argument(...), kb: str = typer.Option(..., "--kb")) -> None:
    """Enable a disabled chunk again."""
    with open_zhiku() as zk:
        zk.set_chunk_enabled(kb, chunk_id, True)
    say(f"chunk {chunk_id} enabled")
