"""``nyxmon check add|remove|pause|resume``: the commands that change checks.

They send the same commands as the API (``AddCheck``, ``RemoveCheck``, ``SetPaused``), run
against the database from this process (:mod:`nyxmon.service_layer.direct`); a running agent
picks the change up within a couple of seconds. A new check is judged like one in the file and
gets the file's ``defaults`` for what it leaves out (:func:`nyxmon.config.new_check`): the
same source of defaults as the web form and the API. Checks from the config file are read-only
here, as in the API.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from nyxmon.checktypes import CHECK_TYPES
from nyxmon.cli._common import (
    ConfigOption,
    DbOption,
    console,
    defaults_of,
    err,
    fail,
    load_for_defaults,
    open_cli_store,
)
from nyxmon.config import (
    ConfigIssue,
    ConfigValidationError,
    new_check,
    parse_value,
    spell_duration,
)
from nyxmon.config import validate_check as validate_spec
from nyxmon.domain.model import Check, CheckSource
from nyxmon.errors import CheckNotFoundError, ConflictError, NyxmonError
from nyxmon.service_layer.direct import execute
from nyxmon.service_layer.messages import AddCheck, RemoveCheck, SetPaused
from nyxmon.service_layer.records.catalog import UpsertOutcome
from nyxmon.service_layer.storage import Store

__all__ = ["add", "pair", "pause", "remove", "resume"]

_OPTION_OF = {
    "name": "--name",
    "type": "--type",
    "id": "--id",
    "interval": "--interval",
    "timeout": "--timeout",
    "conditions": "--condition",
    "labels": "--label",
}


def add(
    service: str = typer.Option(..., "--service", help="The service it belongs to."),
    name: str = typer.Option(..., "--name", help="The check's name within the service."),
    type_: str = typer.Option(..., "--type", help=f"One of: {', '.join(sorted(CHECK_TYPES))}."),
    setting: list[str] = typer.Option(  # noqa: B008
        [],
        "--set",
        help="A setting of the type, KEY=VALUE (url=..., host=..., port=25, max_response_time=1s).",
    ),
    condition: list[str] = typer.Option([], "--condition", help='e.g. "[STATUS] == 200".'),  # noqa: B008
    interval: str | None = typer.Option(
        None, "--interval", help="e.g. 30s (default: the config's defaults.interval)."
    ),
    timeout: str | None = typer.Option(
        None, "--timeout", help="e.g. 5s (default: the config's defaults.timeout)."
    ),
    label: list[str] = typer.Option([], "--label", help="KEY=VALUE, repeatable."),  # noqa: B008
    check_id: str | None = typer.Option(None, "--id", help="A fixed id (default: derived)."),
    config: Path | None = ConfigOption,
    db: Path | None = DbOption,
) -> None:
    """Add (or update) a check owned by the CLI/API; the running agent picks it up."""
    data: dict[str, Any] = {"name": name, "type": type_}
    for item in setting:
        key, value = pair(item, "--set")
        if key in _OPTION_OF:
            fail(f"--set {key}: use {_OPTION_OF[key]} for that")
        data[key] = _set_value(key, value) if value else value
    for key, option_value in (("interval", interval), ("timeout", timeout), ("id", check_id)):
        if option_value is not None:
            data[key] = option_value
    if condition:
        data["conditions"] = condition
    if label:
        data["labels"] = dict(pair(item, "--label") for item in label)
    loaded = load_for_defaults(config, db)
    try:
        spec = validate_spec(data)
        check = new_check(
            spec, service=service, defaults=defaults_of(loaded), source=CheckSource.API, prefix=()
        )
    except ConfigValidationError as exc:
        _report(exc.errors, condition)
        fail("the check was not added")
    store = open_cli_store(config, db, loaded=loaded)
    try:
        outcome = _save(store, check)
    finally:
        store.close()
    every = f"every {spell_duration(check.interval)}, timeout {spell_duration(check.timeout)}"
    console.print(f"{outcome} check [bold]{escape(check.id)}[/] ({check.type}, {every})")
    if check.type == "push" and "token" not in data:  # generated: shown this once
        show_ping_key(check, loaded)


def _set_value(key: str, text: str) -> Any:
    """``--set KEY=VALUE``'s value read as the config file reads a value (``yes`` is text,
    nesting and aliases bounded), so the CLI accepts what the file accepts."""
    try:
        return parse_value(text, where=f"--set {key}", environ=os.environ)
    except ConfigValidationError as exc:
        for issue in exc.errors:
            err.print(f"[red]--set {escape(key)}[/]: {escape(issue.message)}", soft_wrap=True)
        fail("the check was not added")


def _report(issues: list[ConfigIssue], conditions: list[str]) -> None:
    """Each problem at the option it came from: ``--timeout: expected ...``, and for one of
    several ``--condition`` options, which one."""
    for issue in issues:
        head = issue.path.split(".", 1)[0].split("[", 1)[0]
        option = _OPTION_OF.get(head, f"--set {head}")
        index = re.match(r"conditions\[(\d+)\]", issue.path)
        if index is not None and len(conditions) > 1:
            option += f" {conditions[int(index.group(1))]!r}"
        err.print(f"[red]{escape(option)}[/]: {escape(issue.message)}", soft_wrap=True)


def remove(
    check_id: str = typer.Argument(..., metavar="ID"),
    config: Path | None = ConfigOption,
    db: Path | None = DbOption,
) -> None:
    """Delete a CLI/API check and its history (config checks: edit the file instead)."""
    store = open_cli_store(config, db)
    try:
        execute(store, RemoveCheck(check_id))
    except CheckNotFoundError:
        fail(f"ID: no check with id {check_id!r} (see `nyxmon check list`)")
    except NyxmonError as exc:
        fail(f"ID: {exc}")
    finally:
        store.close()
    console.print(f"removed check [bold]{escape(check_id)}[/] and its history")


def pause(
    check_id: str = typer.Argument(..., metavar="ID"),
    config: Path | None = ConfigOption,
    db: Path | None = DbOption,
) -> None:
    """Stop running a check, keeping its history."""
    _set_paused(config, db, check_id, True)


def resume(
    check_id: str = typer.Argument(..., metavar="ID"),
    config: Path | None = ConfigOption,
    db: Path | None = DbOption,
) -> None:
    """Run a paused check again."""
    _set_paused(config, db, check_id, False)


def show_ping_key(check: Check, loaded: Any) -> None:
    """Print a push check's new ping key and its URL (once: masked everywhere after)."""
    key = str(check.params["token"])
    base = loaded.agent.web.public_url.rstrip("/") if loaded is not None else ""
    console.print(f"ping key (shown once): {key}", highlight=False, soft_wrap=True)
    url = f"{base or 'http://HOST:PORT'}/ping/{key}"
    console.print(f"ping URL: {url}", highlight=False, soft_wrap=True)


def _set_paused(config: Path | None, db: Path | None, check_id: str, paused: bool) -> None:
    store = open_cli_store(config, db)
    try:
        execute(store, SetPaused(check_id, paused))
    except NyxmonError as exc:
        fail(f"ID: {exc}")
    finally:
        store.close()
    console.print(f"{'paused' if paused else 'resumed'} check [bold]{escape(check_id)}[/]")


def _save(store: Store, check: Check) -> str:
    try:
        outcome = execute(store, AddCheck(check))
    except ConflictError as exc:
        fail(f"--name: {exc}")
    except NyxmonError as exc:
        fail(str(exc))
    return "added" if outcome in (UpsertOutcome.ADDED, UpsertOutcome.REVIVED) else "updated"


def pair(item: str, option: str) -> tuple[str, str]:
    """``KEY=VALUE`` split at the first ``=``, both stripped; fails naming ``option``."""
    key, sep, value = item.partition("=")
    if not sep or not key.strip():
        fail(f"{option}: expected KEY=VALUE, got {item!r}")
    return key.strip(), value.strip()
