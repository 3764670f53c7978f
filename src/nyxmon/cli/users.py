"""``nyxmon user set-password``: set (or create) a web user's password.

Works on the database directly, like ``nyxmon check``; a running agent sees the new password
within seconds, and sessions signed in under the old one end.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from nyxmon.cli._common import ConfigOption, DbOption, console, fail, open_cli_store
from nyxmon.web.auth import MIN_PASSWORD, hash_password

__all__ = ["app"]

app = typer.Typer(help="Web users: set a password.", no_args_is_help=True)


@app.command("set-password")
def set_password(
    name: str = typer.Argument("admin", help="The user (created if missing)."),
    stdin: bool = typer.Option(False, "--stdin", help="Read the password from standard input."),
    config: Path | None = ConfigOption,
    db: Path | None = DbOption,
) -> None:
    """Set USER's password (asked twice, or read from stdin with --stdin)."""
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
        with store.transaction() as tx:
            tx.auth.put_user(name, hash_password(password))
            tx.commit()
    finally:
        store.close()
    console.print(f"{'changed the password of' if existed else 'created'} user [bold]{name}[/]")
