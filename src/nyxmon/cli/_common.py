"""What the CLI's commands share: the console, finding the store, parsing options."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console

from nyxmon.config import ConfigValidationError, LoadedConfig, load_config, parse_duration
from nyxmon.domain.redaction import redact
from nyxmon.errors import NyxmonError
from nyxmon.service_layer.storage import Store

console = Console(highlight=False)
err = Console(stderr=True, highlight=False)

DEFAULT_CONFIG = "nyxmon.yaml"

ConfigOption = typer.Option(
    None,
    "--config",
    "-c",
    help="The config file (default: $NYXMON_CONFIG, else ./nyxmon.yaml).",
    show_default=False,
)
DbOption = typer.Option(
    None, "--db", help="A SQLite database file to use instead of the config's agent.database."
)


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


def config_path(path: Path | None) -> Path:
    chosen = path or Path(os.environ.get("NYXMON_CONFIG", DEFAULT_CONFIG))
    if not chosen.exists():
        fail(
            f"--config: no config file at {str(chosen)!r} (pass --config FILE or set NYXMON_CONFIG)"
        )
    return chosen


def load(path: Path | None) -> LoadedConfig:
    chosen = config_path(path)
    try:
        return load_config(chosen)
    except ConfigValidationError as exc:
        err.print(str(exc))
        fail(f"{chosen}: {len(exc.errors)} error(s); nothing was changed")


def open_cli_store(config: Path | None, db: Path | None, *, readonly: bool = False) -> Store:
    from nyxmon.bootstrap import open_store

    database = str(db) if db is not None else load(config).agent.database
    if readonly and database != ":memory:" and not Path(database).exists():
        fail(f"no database at {database} yet (start the agent once, or pass --db)")
    try:
        return open_store(database, readonly=readonly)
    except NyxmonError as exc:
        fail(str(exc))


def since_option(value: str, option: str = "--since") -> float:
    """``1h`` -> the POSIX time one hour ago."""
    try:
        return time.time() - parse_duration(value)
    except (ValueError, TypeError) as exc:
        fail(f"{option}: {exc}")


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then removes every registered secret from the whole line, traceback
    included: a library's error message may quote a URL with its token."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


_LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def setup_logging(level: str) -> None:
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO), format=_LOG_FORMAT)
    for handler in logging.getLogger().handlers:
        handler.setFormatter(RedactingFormatter(_LOG_FORMAT))


def ago(timestamp: float | None) -> str:
    if timestamp is None:
        return "never"
    seconds = max(0.0, time.time() - timestamp)
    if seconds < 90:
        return f"{seconds:.0f}s ago"
    if seconds < 5400:
        return f"{seconds / 60:.0f}m ago"
    if seconds < 129600:
        return f"{seconds / 3600:.0f}h ago"
    return f"{seconds / 86400:.0f}d ago"


STATE_STYLE = {
    "up": "green",
    "ok": "green",
    "degraded": "yellow",
    "down": "red",
    "fail": "red",
    "error": "red",
    "timeout": "red",
    "pending": "dim",
    "paused": "dim",
}
