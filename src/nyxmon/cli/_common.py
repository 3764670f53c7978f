"""What the CLI's commands share: the console, finding the store, parsing options, exit codes.

Exit codes: 0 done, 1 the command could not do what was asked (something not found, a value
refused, a check failing), 2 the command line itself is wrong (typer's own usage errors, and
:func:`usage`). ``--json`` output is one document on stdout (:func:`print_json`).
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from nyxmon.config import (
    CheckDefaults,
    ConfigValidationError,
    LoadedConfig,
    load_config,
    parse_duration,
)
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


JsonOption = typer.Option(
    False, "--json", help="Print one JSON document (the REST API's field names) instead."
)


def fail(message: str, code: int = 1) -> NoReturn:
    """Report that the command could not do what was asked, and exit 1."""
    err.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    raise typer.Exit(code)


def usage(message: str) -> NoReturn:
    """Report a command line that cannot be carried out as written, and exit 2 (like typer)."""
    fail(message, code=2)


def plural(count: int, word: str, words: str | None = None) -> str:
    """``"1 token"``, ``"2 tokens"``, ``"0 entries"`` (with ``words`` for irregular plurals)."""
    return f"{count} {word}" if count == 1 else f"{count} {words or word + 's'}"


def print_json(document: Any) -> None:
    """One JSON document on stdout, nothing else: for scripts and ``jq``."""
    print(json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False))


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
        err.print(str(exc), markup=False, soft_wrap=True)
        fail(f"{chosen}: {plural(len(exc.errors), 'error')}; nothing was changed")


def load_for_defaults(path: Path | None, db: Path | None) -> LoadedConfig | None:
    """The config whose ``defaults`` new checks get: always read, except with ``--db`` and no
    config file at all (neither ``--config``, ``$NYXMON_CONFIG`` nor ``./nyxmon.yaml``)."""
    if db is not None and path is None:
        found = Path(os.environ.get("NYXMON_CONFIG", DEFAULT_CONFIG))
        if not found.exists():
            return None
    return load(path)


def defaults_of(loaded: LoadedConfig | None) -> CheckDefaults:
    """The loaded file's defaults; without a file, those an empty file has."""
    return loaded.agent.defaults if loaded is not None else CheckDefaults()


def open_cli_store(
    config: Path | None,
    db: Path | None,
    *,
    readonly: bool = False,
    loaded: LoadedConfig | None = None,
) -> Store:
    from nyxmon.bootstrap import open_store

    database = str(db) if db is not None else (loaded or load(config)).agent.database
    remote = database.startswith(("postgresql://", "postgres://"))
    if readonly and database != ":memory:" and not remote and not Path(database).exists():
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
