"""``zhiku search`` and ``zhiku ask``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from zhiku.cli.context import handle_errors, open_zhiku, print_json, say
from zhiku.core.errors import InvalidInput, NotFound
from zhiku.graph.modes import MODES, SearchMode
from zhiku.permissions.context import reading_as
from zhiku.store.reader import Reader

if TYPE_CHECKING:  # the service loads while the knowledge base's model does (open_zhiku)
    from zhiku.retrieval.types import Hit
    from zhiku.service import Zhiku


def _hit_json(hit: Hit) -> dict[str, Any]:
    data = hit.to_dict()
    data["score"] = round(hit.score, 6)
    return data


def _filters(raw: str | None) -> dict[str, Any] | None:
    if not raw:
        return None
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"--filter is not valid JSON: {exc}") from exc
    if not isinstance(parsed, dict):
        raise InvalidInput("--filter must be a JSON object")
    return parsed


def _batch_line(
    zk: Zhiku, where: str, line: str, kbs: list[str], options: dict[str, Any]
) -> dict[str, Any]:
    """One batch query → its output record; a bad query gets an ``error`` and no hits."""
    try:
        item = json.loads(line)
        qid, text = item["id"], item["text"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise InvalidInput(f'{where}: expected {{"id": ..., "text": ...}}') from exc
    try:
        hits = zk.search(kbs, text, **options)
    except InvalidInput as exc:
        return {"id": qid, "hits": [], "error": exc.message}
    return {"id": qid, "hits": [_hit_json(h) for h in hits]}


AS_USER = "Read as this workspace member (e-mail): their role and groups decide."
AS_GROUP = "Read as a member of this group (name or id; repeat): its documents and the public."


def _reader(zk: Zhiku, as_user: str | None, groups: list[str] | None) -> Reader:
    """Whose view a command takes: the operator's (every document) unless told otherwise."""
    if as_user and groups:
        raise InvalidInput("give --as-user or --group, not both")
    if as_user:
        from zhiku.permissions.resolution import reader_for_member

        found = reader_for_member(zk.db, zk.workspace_id, as_user)
        if found is None:
            raise NotFound(f"'{as_user}' is not a member of this workspace")
        return found
    if groups:
        return Reader.of(zk.permissions.resolve([int(g) if g.isdigit() else g for g in groups]))
    return Reader.everything()


@handle_errors
def search(
    query: str = typer.Argument(None, help="The query (omit with --queries)."),
    kb: list[str] = typer.Option(..., "--kb", help="Knowledge base (repeat for several)."),
    top_k: int = typer.Option(5, "--top-k", "-k", min=1, max=1000),
    mode: str = typer.Option("hybrid", help="hybrid, keyword, vector, local, global or mix."),
    filter_: str = typer.Option(None, "--filter", help='JSON filters, e.g. {"tags": ["hr"]}'),
    as_json: bool = typer.Option(False, "--json"),
    queries: Path = typer.Option(None, "--queries", help='JSONL of {"id", "text"}: batch mode.'),
    fusion: str = typer.Option(None, help="rrf (default) or weighted."),
    min_relevance: float = typer.Option(
        0.0, "--min-relevance", min=0.0, max=1.0, help="Drop hits less relevant than this."
    ),
    as_user: str = typer.Option(None, "--as-user", help=AS_USER),
    group: list[str] = typer.Option(None, "--group", help=AS_GROUP),
) -> None:
    """Search a knowledge base; batch mode prints one JSON line per query.

    Reads every document (the operator's view) unless --as-user or --group says whose view to
    take."""
    if mode not in MODES:
        raise InvalidInput("mode is " + ", ".join(MODES[:-1]) + " or " + MODES[-1])
    chosen: SearchMode = mode  # type: ignore[assignment]
    filters = _filters(filter_)
    with open_zhiku(preload=kb) as zk, reading_as(_reader(zk, as_user, group)):
        if queries is not None:
            with queries.open(encoding="utf-8") as lines:
                for line_no, line in enumerate(lines, 1):
                    if line.strip():
                        record = _batch_line(
                            zk,
                            f"{queries}:{line_no}",
                            line,
                            kb,
                            {
                                "top_k": top_k,
                                "mode": chosen,
                                "filters": filters,
                                "fusion": fusion,
                                "min_relevance": min_relevance,
                            },
                        )
                        sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
            return
        if not query:
            raise InvalidInput("give a QUERY or --queries FILE")
        hits = zk.search(
            kb,
            query,
            top_k=top_k,
            mode=chosen,
            filters=filters,
            fusion=fusion,
            min_relevance=min_relevance,
        )
    if as_json:
        print_json({"query": query, "hits": [_hit_json(h) for h in hits]})
        return
    if not hits:
        say("no results")
    for rank, hit in enumerate(hits, 1):
        where = f" ({hit.location})" if hit.location else ""
        say((f"{rank}.", "bold"), f" {hit.source}{where}  score {hit.score:.4f}")
        say("   " + hit.text[:400].replace("\n", " "))


@handle_errors
def ask(
    question: str = typer.Argument(...),
    kb: list[str] = typer.Option(None, "--kb", help="Knowledge base (repeat for several)."),
    top_k: int = typer.Option(5, "--top-k", "-k", min=1, max=100),
    as_json: bool = typer.Option(False, "--json"),
    app: str = typer.Option(None, "--app", help="Answer with this assistant (its model and KBs)."),
    as_user: str = typer.Option(None, "--as-user", help=AS_USER),
    group: list[str] = typer.Option(None, "--group", help=AS_GROUP),
) -> None:
    """Answer a question from the knowledge base, citing every sentence.

    Answers from every document unless --as-user or --group says whose view to take."""
    if not kb and not app:
        raise InvalidInput("give --kb KB or --app ASSISTANT")
    with open_zhiku(preload=kb or ()) as zk, reading_as(_reader(zk, as_user, group)):
        answer = zk.ask_app(app, question) if app else zk.ask(kb, question, top_k=top_k)
    if as_json:
        print_json(answer.to_dict())
        return
    say(answer.answer)
    for cite in answer.citations:
        where = f", {cite.location}" if cite.location else ""
        say(f"  [{cite.n}] {cite.source}{where}")
    from zhiku.cli.chat import grounding_note

    if note := grounding_note(answer):
        say(note, err=True)
