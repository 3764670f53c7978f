"""``nyxmon import gatus|uptime-kuma|nyxmon-0.1 SOURCE``: another monitor's setup as NyxMon YAML.

The YAML goes to stdout (or ``-o FILE``) and validates with ``nyxmon config validate``; what was
mapped, approximated and dropped goes to stderr, and every setting not carried over exactly
has a comment in the file. ``--strict`` writes nothing and exits 1 when anything was
approximated or dropped.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import typer

from nyxmon.cli._common import err, fail
from nyxmon.importers import IMPORTERS, ImportDraft, ImportFailed, SourceError, finish

__all__ = ["app"]

app = typer.Typer(
    help="Import another monitor's configuration as a NyxMon config file.",
    no_args_is_help=True,
)

_TOOLS = {
    "gatus": ("Gatus config", "FILE"),
    "uptime-kuma": ("Uptime Kuma backup", "FILE"),
    "nyxmon-0.1": ("NyxMon 0.1 database", "DB"),
}

OutputOption = typer.Option(
    None, "--output", "-o", help="Write the YAML to this file instead of stdout."
)
StrictOption = typer.Option(
    False, "--strict", help="Exit 1 (writing nothing) if anything was approximated or dropped."
)


def run_import(tool: str, source: Path, output: Path | None, strict: bool) -> int:
    """Import ``source`` with ``tool``'s importer; the exit code."""
    what, name = _TOOLS[tool]
    if not source.is_file():
        fail(f"{name}: no such file {str(source)!r}")
    importer: Callable[[Path], ImportDraft] = IMPORTERS[tool]
    try:
        draft = importer(source)
        text = finish(
            draft, f"NyxMon config imported from {what} {source.name} by `nyxmon import {tool}`."
        )
    except SourceError as exc:
        fail(str(exc))
    except ImportFailed as exc:
        fail(f"{exc} (please report this)")
    err.print(draft.report.summary(), markup=False, soft_wrap=True, highlight=False)
    if strict and not draft.report.exact:
        err.print("--strict: something was approximated or dropped; nothing written", markup=False)
        return 1
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            fail(f"--output: cannot write {str(output)!r}: {exc.strerror}")
        err.print(f"wrote {output}", markup=False, highlight=False)
    return 0


@app.command("gatus")
def gatus_command(
    file: Path = typer.Argument(..., help="Gatus's config.yaml."),  # noqa: B008
    output: Path | None = OutputOption,
    strict: bool = StrictOption,
) -> None:
    """Endpoints, groups, conditions, intervals, alerts (as routes), external endpoints."""
    raise typer.Exit(run_import("gatus", file, output, strict))


@app.command("uptime-kuma")
def uptime_kuma_command(
    file: Path = typer.Argument(..., help="An Uptime Kuma backup (Settings > Backup, JSON)."),  # noqa: B008
    output: Path | None = OutputOption,
    strict: bool = StrictOption,
) -> None:
    """Monitors, groups, tags (as labels), notifications (as routes where possible)."""
    raise typer.Exit(run_import("uptime-kuma", file, output, strict))


@app.command("nyxmon-0.1")
def nyxmon01_command(
    db: Path = typer.Argument(..., help="The original NyxMon's Django SQLite database."),  # noqa: B008
    output: Path | None = OutputOption,
    strict: bool = StrictOption,
) -> None:
    """Services and checks; its Telegram settings ($TELEGRAM_BOT_TOKEN/$TELEGRAM_CHAT_ID)."""
    raise typer.Exit(run_import("nyxmon-0.1", db, output, strict))
