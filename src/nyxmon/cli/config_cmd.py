"""``nyxmon config validate FILE``: every error with its line, or a summary."""

from __future__ import annotations

from pathlib import Path

import typer

from nyxmon.cli._common import console, err
from nyxmon.config import format_report, validate_config_file

app = typer.Typer(help="Work with config files.", no_args_is_help=True)


@app.command("validate")
def validate(
    file: Path = typer.Argument(..., help="The config file to check."),  # noqa: B008
) -> None:
    """Print every error (file:line: key.path: message) and exit 1, or a summary and exit 0."""
    if not file.exists():
        err.print(f"error: FILE: no such file {str(file)!r}")
        raise typer.Exit(1)
    report = validate_config_file(file)
    (console if report.ok else err).print(format_report(report), markup=False, soft_wrap=True)
    raise typer.Exit(0 if report.ok else 1)
