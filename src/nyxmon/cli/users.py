"""``nyxmon user set-password|sign-out``: a web user's password and sessions.

Works on the database directly, like ``nyxmon check``, also while the agent and its web plane
run: a new password ends every session of the user, and ``sign-out`` ends them without one;
the web plane refuses those sessions from its next request on (:mod:`nyxmon.web.sessions`).
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from nyxmon.cli._common import ConfigOption, DbOption, console, fail, open_cli_store, plural
from nyxmon.web.auth import MIN_PASSWORD, hash_password

__all__ = ["app"]

app = typer.Typer(help="Web users: set a password, sign out everywhere.", no_args_is_help=True)


@app.command("set-password")
def set_password(
    name: str = typer.Argument("admin", help="The user (created if missing)."),
    stdin: bool = typer.Option(False, "--stdin", help="Read the password from standard input."),
    config: Path | None = ConfigOption,
    db: Path | None = DbOption,
) -> None:
    """Set USER's password (asked twice, or read from stdin with --stdin); ends every
    session of USER."""
    if not name.strip():
        fail("USER: expected a user name")
    if stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("new password", hide_input=True, confirmation_prompt=True)
    if len(password) < MIN_PASSWORD:
        fail(f"the password: expected at least {MIN_PASSWORD} characters, got {len(password)}")
    store = open_cli_store(config, db)
    try:
        existed = store.get_user(name) is not None
        sessions = len(store.list_sessions(name))
        with store.transaction() as tx:
            tx.auth.put_user(name, hash_password(password))  # ends the user's sessions too
            tx.commit()
    finally:
        store.close()
    if not existed:
        console.print(f"created user [bold]{name}[/]")
        return
    console.print(
        f"changed the password of user [bold]{name}[/] and signed out {plural(sessions, 'session')}"
    )


@app.command("sign-out")
def sign_out(
    name: str = typer.Argument(..., metavar="USER", help="The user to sign out everywhere."),
    config: Path | None = ConfigOption,
    db: Path | None = DbOption,
) -> None:
    """End every session of USER (every browser signed in as USER goes to the login page)."""
    store = open_cli_store(config, db)
    try:
        if store.get_user(name) is None:
            fail(f"USER: no user named {name!r} (see `nyxmon user set-password`)")
        with store.transaction() as tx:
            ended = tx.auth.end_sessions(name)
            tx.commit()
    finally:
        store.close()
    console.print(f"signed out {plural(ended, 'session')} of user [bold]{name}[/]")
