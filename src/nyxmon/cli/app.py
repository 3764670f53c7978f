"""The ``nyxmon`` command tree, each subcommand's module imported only when it is run.

``nyxmon ping run`` wraps cron jobs and every test drives the CLI as a process, so start-up
time is paid over and over: importing every subcommand (pydantic models of every check type,
the store, the notifiers) took about 3 s before ``nyxmon --version`` could answer. The top
group knows its subcommands by name and module (:data:`COMMANDS`) and builds one only when
it is asked for (``nyxmon --version`` now answers in a third of a second); ``nyxmon --help``
still lists them all.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import typer
import typer.core
import typer.main

from nyxmon import __version__

__all__ = ["COMMANDS", "app", "main"]

#: name -> (module in nyxmon.cli, attribute): a ``typer.Typer`` (a group) or a function.
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("run", "run_command"),
    "demo": ("run", "demo_command"),
    "web": ("web", "web_command"),
    "results": ("results", "results_command"),
    "config": ("config_cmd", "app"),
    "import": ("import_cmd", "app"),
    "check": ("checks", "app"),
    "ping": ("ping", "app"),
    "db": ("db", "app"),
    "notify": ("notify", "app"),
    "user": ("users", "app"),
    "token": ("tokens", "app"),
}


def load_command(name: str) -> Any:
    """The click command ``nyxmon NAME`` runs, importing its module now."""
    module, attribute = COMMANDS[name]
    target = getattr(importlib.import_module(f"nyxmon.cli.{module}"), attribute)
    if isinstance(target, typer.Typer):
        group = typer.main.get_group(target)
        group.name = name
        return group
    single = typer.Typer()
    single.command(name)(target)
    return typer.main.get_command(single)


class _LazyGroup(typer.core.TyperGroup):
    def list_commands(self, ctx: Any) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(COMMANDS))

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        known = super().get_command(ctx, cmd_name)
        if known is not None or cmd_name not in COMMANDS:
            return known
        command = load_command(cmd_name)
        self.add_command(command, cmd_name)
        return command


app = typer.Typer(
    name="nyxmon",
    cls=_LazyGroup,
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


def main() -> int:
    """Console-script entry point."""
    try:
        app(standalone_mode=True)
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
