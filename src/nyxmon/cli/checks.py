"""``nyxmon check list|show|run|add|remove|pause|resume``.

Changes are the same commands the API sends, run against the database from this process
(:mod:`nyxmon.service_layer.direct`): a running agent notices them within a couple of seconds.
Checks from the config file are read-only here, as in the API.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import typer
import yaml
from rich.table import Table

from nyxmon.cli._common import (
    STATE_STYLE,
    ConfigOption,
    DbOption,
    ago,
    console,
    err,
    fail,
    open_cli_store,
)
from nyxmon.config import ConfigValidationError, check_from_spec, validate_check
from nyxmon.domain.model import Check, CheckSource, Result
from nyxmon.errors import CheckNotFoundError, ConflictError, NyxmonError
from nyxmon.service_layer.direct import execute
from nyxmon.service_layer.messages import AddCheck, RemoveCheck, SetPaused
from nyxmon.service_layer.records.catalog import CheckQuery, UpsertOutcome
from nyxmon.service_layer.storage import Store

app = typer.Typer(help="List, inspect, run and change checks.", no_args_is_help=True)

_OPTION_OF = {
    "name": "--name",
    "type": "--type",
    "id": "--id",
    "interval": "--interval",
    "timeout": "--timeout",
    "conditions": "--condition",
    "labels": "--label",
}


def _state(check: Check, last: Result | None) -> str:
    if check.paused or not check.enabled:
        return "paused"
    if last is None:
        return "pending"
    if not last.ok:
        return "down"
    return "degraded" if last.degraded else "up"


@app.command("list")
def list_checks(
    service: str | None = typer.Option(None, "--service", help="Only this service's checks."),
    type_: str | None = typer.Option(None, "--type", help="Only checks of this type."),
    label: list[str] = typer.Option([], "--label", help="Only checks with label KEY=VALUE."),  # noqa: B008
    config: Path | None = ConfigOption,
    db: Path | None = DbOption,
) -> None:
    """Every live check with its state and last result."""
    labels = dict(_pair(item, "--label") for item in label)
    store = open_cli_store(config, db, readonly=True)
    try:
        page = store.list_checks(CheckQuery(service=service, type=type_, labels=labels))
        latest = store.latest_results([c.id for c in page.items])
    finally:
        store.close()
    table = Table(title=f"{page.total} checks")
    for column in ("id", "service", "type", "every", "state", "last result", "message"):
        table.add_column(column)
    for check in page.items:
        stored = latest.get(check.id)
        last = stored.result if stored else None
        state = _state(check, last)
        table.add_row(
            check.id,
            check.service,
            check.type,
            f"{check.interval:g}s",
            f"[{STATE_STYLE.get(state, '')}]{state}[/]",
            ago(last.started_at if last else None),
            (last.message if last else "")[:60],
        )
    console.print(table)


@app.command("show")
def show(
    check_id: str = typer.Argument(..., metavar="ID"),
    config: Path | None = ConfigOption,
    db: Path | None = DbOption,
) -> None:
    """One check's settings, its 24 h availability and its last results."""
    store = open_cli_store(config, db, readonly=True)
    try:
        check = store.get_check(check_id, include_archived=True)
        if check is None:
            fail(f"ID: no check with id {check_id!r} (see `nyxmon check list`)")
        day = store.availability(check_id, now=time.time(), window=86400)
        recent = store.results(check_id, limit=10).items
    finally:
        store.close()
    table = Table(show_header=False, box=None)
    for key, value in (
        ("id", check.id),
        ("service", check.service),
        ("name", check.name),
        ("type", check.type),
        ("interval / timeout", f"{check.interval:g}s / {check.timeout:g}s"),
        ("source", check.source.value),
        ("state", "paused" if check.paused else ("enabled" if check.enabled else "disabled")),
        ("conditions", "\n".join(check.conditions) or "-"),
        ("labels", ", ".join(f"{k}={v}" for k, v in check.labels.items()) or "-"),
        ("params", yaml.safe_dump(dict(check.params), sort_keys=True).strip()),
        (
            "24h uptime",
            f"{day.uptime_pct:.2f}% of {day.count} runs" if day.uptime_pct is not None else "-",
        ),
    ):
        table.add_row(f"[bold]{key}[/]", value)
    console.print(table)
    for stored in recent:
        r = stored.result
        when = dt.datetime.fromtimestamp(r.started_at).strftime("%H:%M:%S")
        style = STATE_STYLE.get(r.outcome.value, "")
        console.print(
            f"  {when} [{style}]{r.outcome.value}[/] {r.duration * 1000:.0f} ms {r.message}"
        )


@app.command("run")
def run_now(
    check_ids: list[str] = typer.Argument(None, metavar="[ID]...", help="Checks to run."),  # noqa: B008
    all_: bool = typer.Option(False, "--all", help="Run every live check."),
    config: Path | None = ConfigOption,
    db: Path | None = DbOption,
) -> None:
    """Run checks now and print each result as it arrives (nothing is stored).

    Exits 1 if any check did not pass, so it can gate a deploy script.
    """
    from nyxmon.bootstrap import check_runner

    store = open_cli_store(config, db, readonly=True)
    try:
        if all_:
            checks = list(store.list_checks(CheckQuery()).items)
        elif check_ids:
            checks = []
            for check_id in check_ids:
                found = store.get_check(check_id)
                if found is None:
                    fail(f"ID: no check with id {check_id!r} (see `nyxmon check list`)")
                checks.append(found)
        else:
            fail("give check ids to run, or --all")
    finally:
        store.close()
    failed = 0

    def show_result(result: Result) -> None:
        nonlocal failed
        failed += not result.ok
        style = STATE_STYLE.get(result.outcome.value, "")
        label = result.outcome.value + (" (degraded)" if result.degraded else "")
        console.print(
            f"[{style}]{label:>8}[/] {result.check_id}  {result.duration * 1000:.0f} ms"
            f"  {result.message}"
        )

    with check_runner() as runner:
        runner.run_all(checks, show_result)
    console.print(f"{len(checks) - failed} of {len(checks)} passed")
    raise typer.Exit(1 if failed else 0)


@app.command("add")
def add(
    service: str = typer.Option(..., "--service", help="The service it belongs to."),
    name: str = typer.Option(..., "--name", help="The check's name within the service."),
    type_: str = typer.Option(..., "--type", help="http, json or dns."),
    setting: list[str] = typer.Option(  # noqa: B008
        [], "--set", help="A setting of the type, KEY=VALUE (url=..., record_type=A, ...)."
    ),
    condition: list[str] = typer.Option([], "--condition", help='e.g. "[STATUS] == 200".'),  # noqa: B008
    interval: str | None = typer.Option(None, "--interval", help="e.g. 30s (default 60s)."),
    timeout: str | None = typer.Option(None, "--timeout", help="e.g. 5s (default 10s)."),
    label: list[str] = typer.Option([], "--label", help="KEY=VALUE, repeatable."),  # noqa: B008
    check_id: str | None = typer.Option(None, "--id", help="A fixed id (default: derived)."),
    config: Path | None = ConfigOption,
    db: Path | None = DbOption,
) -> None:
    """Add (or update) a check owned by the CLI/API; the running agent picks it up."""
    data: dict[str, Any] = {"name": name, "type": type_}
    for item in setting:
        key, value = _pair(item, "--set")
        if key in _OPTION_OF:
            fail(f"--set {key}: use {_OPTION_OF[key]} for that")
        data[key] = yaml.safe_load(value) if value else value
    for key, option_value in (("interval", interval), ("timeout", timeout), ("id", check_id)):
        if option_value is not None:
            data[key] = option_value
    if condition:
        data["conditions"] = condition
    if label:
        data["labels"] = dict(_pair(item, "--label") for item in label)
    try:
        spec = validate_check(data)
    except ConfigValidationError as exc:
        for issue in exc.errors:
            head = issue.path.split(".", 1)[0].split("[", 1)[0]
            option = _OPTION_OF.get(head, f"--set {head}")
            err.print(f"[red]{option}[/]: {issue.message}", markup=True)
        fail("the check was not added")
    check = check_from_spec(spec, service=service, source=CheckSource.API)
    store = open_cli_store(config, db)
    try:
        outcome = _save(store, check)
    finally:
        store.close()
    console.print(f"{outcome} check [bold]{check.id}[/] ({check.type}, every {check.interval:g}s)")


@app.command("remove")
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
    console.print(f"removed check [bold]{check_id}[/] and its history")


@app.command("pause")
def pause(
    check_id: str = typer.Argument(..., metavar="ID"),
    config: Path | None = ConfigOption,
    db: Path | None = DbOption,
) -> None:
    """Stop running a check, keeping its history."""
    _set_paused(config, db, check_id, True)


@app.command("resume")
def resume(
    check_id: str = typer.Argument(..., metavar="ID"),
    config: Path | None = ConfigOption,
    db: Path | None = DbOption,
) -> None:
    """Run a paused check again."""
    _set_paused(config, db, check_id, False)


def _set_paused(config: Path | None, db: Path | None, check_id: str, paused: bool) -> None:
    store = open_cli_store(config, db)
    try:
        execute(store, SetPaused(check_id, paused))
    except NyxmonError as exc:
        fail(f"ID: {exc}")
    finally:
        store.close()
    console.print(f"{'paused' if paused else 'resumed'} check [bold]{check_id}[/]")


def _save(store: Store, check: Check) -> str:
    try:
        outcome = execute(store, AddCheck(check))
    except ConflictError as exc:
        fail(f"--name: {exc}")
    except NyxmonError as exc:
        fail(str(exc))
    return "added" if outcome in (UpsertOutcome.ADDED, UpsertOutcome.REVIVED) else "updated"


def _pair(item: str, option: str) -> tuple[str, str]:
    key, sep, value = item.partition("=")
    if not sep or not key.strip():
        fail(f"{option}: expected KEY=VALUE, got {item!r}")
    return key.strip(), value.strip()


__all__ = ["app"]
