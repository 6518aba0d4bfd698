"""``zhiku groups``: groups of readers, their members, and which groups may read a document or
a source (docs/permissions.md)."""

from __future__ import annotations

import typer
from rich.table import Table

from zhiku.cli.context import console, handle_errors, open_zhiku, print_json, say
from zhiku.cli.output import safe
from zhiku.core.errors import InvalidInput, NotFound

app = typer.Typer(help="Groups of readers and the documents and sources restricted to them.",
                  no_args_is_help=True)


def group_refs(raw: str | None) -> list[int | str] | None:
    """``--groups a,b,3``: names or ids; ``-`` (or none given) means unrestricted (None)."""
    if raw is None or raw.strip() == "-":
        return None
    return [int(g) if g.isdigit() else g for g in (p.strip() for p in raw.split(",")) if g]


def _ref(group: str) -> int | str:
    return int(group) if group.isdigit() else group


@app.command("list")
@handle_errors
def list_groups(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Every group with its members (user and key ids)."""
    with open_zhiku() as zk:
        groups = zk.permissions.list_groups()
    if as_json:
        print_json([g.as_dict() for g in groups])
        return
    table = Table("id", "name", "users", "keys", "description")
    for g in groups:
        table.add_row(str(g.id), safe(g.name), str(len(g.users)), str(len(g.keys)),
                      safe(g.description))
    console.print(table)


@app.command("create")
@handle_errors
def create(name: str = typer.Argument(...),
           description: str = typer.Option("", "--description")) -> None:
    """Create a group."""
    with open_zhiku() as zk:
        group = zk.permissions.create_group(name, description)
    say(f"group {group.id} '{safe(group.name)}' created")


@app.command("rename")
@handle_errors
def rename(group: str = typer.Argument(..., help="Name or id."),
           name: str = typer.Argument(...)) -> None:
    """Rename a group."""
    with open_zhiku() as zk:
        zk.permissions.update_group(_ref(group), name=name)
    say(f"group renamed to '{safe(name)}'")


@app.command("delete")
@handle_errors
def delete(group: str = typer.Argument(..., help="Name or id.")) -> None:
    """Delete a group (what it restricted stays restricted, to administrators at least)."""
    with open_zhiku() as zk:
        gone = zk.permissions.delete_group(_ref(group))
    say(f"group '{safe(gone.name)}' deleted")


def _member(zk_user: str | None, key: int | None, zk: object) -> dict[str, int]:
    from zhiku.accounts.store import AccountStore
    from zhiku.service import Zhiku

    assert isinstance(zk, Zhiku)
    if (zk_user is None) == (key is None):
        raise InvalidInput("give --user EMAIL or --key ID")
    if key is not None:
        return {"key_id": key}
    assert zk_user is not None
    found = AccountStore(zk.db).user_id(zk_user)
    if found is None:
        raise NotFound(f"no user '{zk_user}'")
    return {"user_id": found}


@app.command("add")
@handle_errors
def add(group: str = typer.Argument(..., help="Name or id."),
        user: str = typer.Option(None, "--user", help="A member's e-mail."),
        key: int = typer.Option(None, "--key", help="An API key's id.")) -> None:
    """Add a user or an API key of the workspace to a group."""
    with open_zhiku() as zk:
        zk.permissions.add_member(_ref(group), **_member(user, key, zk))
    say("added")


@app.command("remove")
@handle_errors
def remove(group: str = typer.Argument(..., help="Name or id."),
           user: str = typer.Option(None, "--user", help="A member's e-mail."),
           key: int = typer.Option(None, "--key", help="An API key's id.")) -> None:
    """Remove a user or an API key from a group."""
    with open_zhiku() as zk:
        zk.permissions.remove_member(_ref(group), **_member(user, key, zk))
    say("removed")


@app.command("restrict")
@handle_errors
def restrict(
    kb: str = typer.Option(..., "--kb", help="Knowledge base."),
    doc: list[str] = typer.Option(None, "--doc", help="Document id or source (repeat)."),
    source: str = typer.Option(None, "--source", help="A source's name: it and its documents."),
    groups: str = typer.Option(..., "--groups",
                               help="Comma-separated group names or ids; '-' opens to everyone; "
                               "'' restricts to administrators."),
) -> None:
    """Set which groups may read documents, or a source and everything it syncs."""
    if bool(doc) == (source is not None):
        raise InvalidInput("give --doc (repeatable) or --source")
    refs = group_refs(groups)
    with open_zhiku() as zk:
        if source is not None:
            found = zk.sources.get(source, kb)
            zk.permissions.set_source_groups(found.id, found.name, refs)
        else:
            zk.permissions.set_document_groups(kb, list(doc), refs)
    say("open to everyone in the workspace" if refs is None else
        f"restricted to {len(refs)} group(s)" if refs else "restricted to administrators")
