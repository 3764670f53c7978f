"""``nyxmon token create|list|revoke``: API bearer tokens for the REST API and scripts.

A token is shown once, when it is created; only its SHA-256 is stored. Its scope is ``read``
(GET and HEAD only) unless ``--scope admin`` is given: least privilege by default, since a
dashboard or a Prometheus exporter only reads, and a leaked read token cannot change or delete
anything. Tokens made before scopes existed are ``admin`` (schema migration 5).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer
from rich.table import Table

from nyxmon.cli._common import (
    ConfigOption,
    DbOption,
    JsonOption,
    ago,
    console,
    fail,
    open_cli_store,
    plural,
    print_json,
)
from nyxmon.service_layer.records.accounts import TOKEN_SCOPES, TokenScope
from nyxmon.web.auth import hash_token, new_token

__all__ = ["app"]

app = typer.Typer(help="API tokens: create, list, revoke.", no_args_is_help=True)


@app.command("create")
def create(
    name: str = typer.Argument(..., help="What the token is for (e.g. grafana, ci)."),
    owner: str = typer.Option("admin", "--owner", help="The user it acts as."),
    scope: str = typer.Option(
        "read",
        "--scope",
        help="read: GET and HEAD only (lists, history, events); admin: every operation.",
    ),
    config: Path | None = ConfigOption,
    db: Path | None = DbOption,
) -> None:
    """Create a token and print it (the only time it is shown)."""
    if not name.strip():
        fail("NAME: expected a non-empty name")
    if scope not in TOKEN_SCOPES:
        fail(f"--scope: expected one of {', '.join(TOKEN_SCOPES)}, got {scope!r}")
    chosen: TokenScope = "admin" if scope == "admin" else "read"
    store = open_cli_store(config, db)
    try:
        if store.get_user(owner) is None:
            fail(f"--owner: no user named {owner!r} (see `nyxmon user set-password`)")
        raw = new_token()
        with store.transaction() as tx:
            record = tx.auth.create_token(name.strip(), hash_token(raw), owner, chosen)
            tx.commit()
    finally:
        store.close()
    console.print(
        f"created token {record.id} ({record.name}, scope {record.scope}) for {owner}; "
        "it is shown only now:"
    )
    print(raw)


@app.command("list")
def list_tokens(
    as_json: bool = JsonOption, config: Path | None = ConfigOption, db: Path | None = DbOption
) -> None:
    """Every token: id, name, owner, scope, created, last used, revoked."""
    store = open_cli_store(config, db, readonly=True)
    try:
        tokens = store.list_tokens()
    finally:
        store.close()
    if as_json:
        from nyxmon.web.api.schemas import token_out

        print_json([token_out(token).model_dump(mode="json") for token in tokens])
        return
    table = Table(title=plural(len(tokens), "token"))
    for column in ("id", "name", "owner", "scope", "created", "last used", "revoked"):
        table.add_column(column)
    for token in tokens:
        table.add_row(
            str(token.id),
            token.name,
            token.owner,
            token.scope,
            dt.datetime.fromtimestamp(token.created_at).strftime("%Y-%m-%d %H:%M"),
            ago(token.last_used_at),
            ago(token.revoked_at) if token.revoked_at else "",
        )
    console.print(table)


@app.command("revoke")
def revoke(
    token_id: int = typer.Argument(..., metavar="ID", help="The token's id (see `token list`)."),
    config: Path | None = ConfigOption,
    db: Path | None = DbOption,
) -> None:
    """Revoke a token: requests carrying it are refused from then on."""
    store = open_cli_store(config, db)
    try:
        with store.transaction() as tx:
            revoked = tx.auth.revoke_token(token_id)
            tx.commit()
    finally:
        store.close()
    if not revoked:
        fail(f"ID: no live token with id {token_id} (see `nyxmon token list`)")
    console.print(f"revoked token {token_id}")
