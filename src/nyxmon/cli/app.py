"""The ``nyxmon`` command tree."""

from __future__ import annotations

import sys

import typer

from nyxmon import __version__
from nyxmon.cli import (
    checks,
    config_cmd,
    db,
    import_cmd,
    notify,
    ping,
    results,
    run,
    tokens,
    users,
    web,
)

app = typer.Typer(
    name="nyxmon",
    help="NyxMon: a self-hosted service monitor.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(wanted: bool) -> None:
    if wanted:
        print(f"nyxmon {__version__}")
        raise typer.Exit(0)


@app.callback()
def _options(
    version: bool = typer.Option(
        False,
        "--version",
        help="Print the version and exit.",
        callback=_print_version,
        is_eager=True,
    ),
) -> None:
    """NyxMon: a self-hosted service monitor."""


app.command("run")(run.run_command)
app.command("demo")(run.demo_command)
app.command("web")(web.web_command)
app.command("results")(results.results_command)
app.add_typer(config_cmd.app, name="config")
app.add_typer(import_cmd.app, name="import")
app.add_typer(checks.app, name="check")
app.add_typer(ping.app, name="ping")
app.add_typer(db.app, name="db")
app.add_typer(notify.app, name="notify")
app.add_typer(users.app, name="user")
app.add_typer(tokens.app, name="token")


def main() -> int:
    """Console-script entry point."""
    try:
        app(standalone_mode=True)
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
