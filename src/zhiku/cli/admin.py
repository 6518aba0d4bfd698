"""``zhiku admin``: the first workspace, its owner and an admin API key (printed once); a
workspace's password sign-in switch; a check of the single sign-on configuration."""

from __future__ import annotations

import sys

import typer

from zhiku.accounts.bootstrap import bootstrap
from zhiku.accounts.passwords import check_password
from zhiku.accounts.secrets import HashCost
from zhiku.cli.context import handle_errors, print_json, say
from zhiku.core.settings import Settings
from zhiku.store.db import open_database

app = typer.Typer(help="Administer the server: first-run set-up.", no_args_is_help=True)


@app.command("init")
@handle_errors
def init(
    email: str = typer.Option(..., help="The owner's e-mail (their login)."),
    workspace: str = typer.Option("default", help="The first workspace."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from standard input."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Create the first workspace, its owner and an admin API key (shown once)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Owner password", hide_input=True, confirmation_prompt=True)
    check_password(password, email)  # before the database is opened (and so created)
    settings = Settings()
    db = open_database(settings)
    try:
        made = bootstrap(db, email, password, workspace, cost=HashCost.of(settings))
    finally:
        db.close()
    if as_json:
        print_json({"workspace": workspace, "workspace_id": made.workspace_id,
                    "user_id": made.user_id, "key_id": made.key_id, "key": made.key})
        return
    say("workspace ", (workspace, "bold"), ", owner ", (email, "bold"))
    say("admin API key (shown once — store it now):")
    print(made.key)


@app.command("password-signin")
@handle_errors
def password_signin_switch(
    state: str = typer.Argument(..., help="on or off", metavar="on|off"),
    workspace: str = typer.Option(..., help="The workspace."),
) -> None:
    """Turn e-mail-and-password sign-in to a workspace on or off (off: members sign in with
    single sign-on or the directory; the instance owner keeps password sign-in)."""
    from zhiku.accounts import password_signin
    from zhiku.accounts.store import AccountStore
    from zhiku.core.errors import InvalidInput, NotFound

    if state not in ("on", "off"):
        raise InvalidInput("say on or off")
    db = open_database(Settings())
    try:
        store = AccountStore(db)
        workspace_id = store.workspace_id(workspace)
        if workspace_id is None:
            raise NotFound(f"workspace '{workspace}' does not exist")
        password_signin.set_allowed(db, workspace_id, state == "on")
        store.audit(workspace_id)("workspace.signin", "workspace", workspace_id, workspace,
                                  detail={"password_signin": state == "on"})
    finally:
        db.close()
    say("password sign-in to ", (workspace, "bold"), f" is {state}")


@app.command("sso-check")
@handle_errors
def sso_check(
    login: str | None = typer.Option(
        None, help="Look this directory user up (no password): their groups and roles."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Check the single sign-on configuration: the OIDC provider's discovery document and
    keys, the LDAP service account, the group mapping. Exit 1 when something fails."""
    from zhiku.sso.check import check

    findings = check(Settings(), login)
    if as_json:
        print_json([{"what": f.what, "ok": f.ok, "detail": f.detail, **f.extra}
                    for f in findings])
    else:
        for f in findings:
            say((f.what, "bold"), ": ", ("ok" if f.ok else "FAILED", "green" if f.ok else "red"),
                " ", f.detail)
            for key, value in f.extra.items():
                say(f"  {key}: {value}")
    if not all(f.ok for f in findings):
        raise typer.Exit(1)
