"""``zhiku share create|list|rotate|enable|disable|delete``: share links of an app (an
assistant, an agent or a chat-shaped workflow): the public chat page at ``/s/<token>`` and the
widget."""

from __future__ import annotations

import sys

import typer

from zhiku.cli.context import handle_errors, open_zhiku, print_json, say

app = typer.Typer(help="Share links: a public chat page and widget per published app.",
                  no_args_is_help=True)


def _show_issued(data: dict[str, object], as_json: bool) -> None:
    if as_json:
        print_json(data)
        return
    say(("link ", "green"), str(data["id"]), ": ", str(data["path"]))
    say("token (shown once): ", str(data["token"]))
    if data.get("signing_secret"):
        say("signing secret (shown once): ", str(data["signing_secret"]))


@app.command("create")
@handle_errors
def create(
    assistant: str = typer.Argument(
        ..., help="The app's slug (a published assistant, agent or chat-shaped workflow)."),
    name: str = typer.Option("", "--name", help="A label for the link."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read a password for the link from standard input."),
    expires: str = typer.Option(None, "--expires", help="ISO-8601 expiry time."),
    rate: int = typer.Option(20, "--rate", help="Requests per visitor address a minute."),
    quota: int = typer.Option(1000, "--quota", help="Answers a day through this link."),
    origin: list[str] = typer.Option(
        None, "--origin", help="A web origin that may embed the chat (repeat)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Create a share link; its token and signing secret are printed this once."""
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    with open_zhiku() as zk:
        issued = zk.share.create(assistant, kind=zk.apps.kind(assistant), name=name,
                                 password=password, expires_at=expires,
                                 rate_per_minute=rate, daily_quota=quota,
                                 allowed_origins=origin or [])
    _show_issued(issued.to_dict(), as_json)


@app.command("list")
@handle_errors
def list_links(
    assistant: str = typer.Argument(..., help="The app's slug."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The share links of an app (tokens are never shown again)."""
    with open_zhiku() as zk:
        links = [link.to_dict() for link in zk.share.list(assistant, zk.apps.kind(assistant))]
    if as_json:
        print_json(links)
        return
    for link in links:
        state = "enabled" if link["enabled"] else "disabled"
        extra = [f"…{link['token_hint']}", state, f"{link['rate_per_minute']}/min",
                 f"{link['daily_quota']}/day"]
        if link["has_password"]:
            extra.append("password")
        if link["expires_at"]:
            extra.append(f"expires {link['expires_at']}")
        if link["allowed_origins"]:
            extra.append("origins " + " ".join(link["allowed_origins"]))
        say(str(link["id"]), "  ", link["name"] or "-", "  ", ", ".join(extra))


@app.command("rotate")
@handle_errors
def rotate(
    link_id: int = typer.Argument(...),
    signing_secret: bool = typer.Option(
        False, "--signing-secret", help="Renew the identity-signing secret too."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """A new token: the old URL and every visitor session stop working at once."""
    with open_zhiku() as zk:
        issued = zk.share.rotate(link_id, signing_secret=signing_secret)
    _show_issued(issued.to_dict(), as_json)


@app.command("enable")
@handle_errors
def enable(link_id: int = typer.Argument(...)) -> None:
    """Enable a share link."""
    with open_zhiku() as zk:
        zk.share.update(link_id, enabled=True)
    say(("enabled ", "green"), str(link_id))


@app.command("disable")
@handle_errors
def disable(link_id: int = typer.Argument(...)) -> None:
    """Disable a share link (its page answers 404 until enabled again)."""
    with open_zhiku() as zk:
        zk.share.update(link_id, enabled=False)
    say(("disabled ", "yellow"), str(link_id))


@app.command("delete")
@handle_errors
def delete(link_id: int = typer.Argument(...)) -> None:
    """Delete a share link."""
    with open_zhiku() as zk:
        zk.share.delete(link_id)
    say(("deleted ", "red"), str(link_id))
