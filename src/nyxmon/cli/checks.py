"""``nyxmon check list|show|run|add|remove|pause|resume``.

Reading commands live here; the changing ones (:mod:`nyxmon.cli.check_edit`) are the same
commands the API sends, run against the database from this process: a running agent notices
them within a couple of seconds. States are those the agent stored
(:mod:`nyxmon.cli.check_state`), so the CLI and the API say the same of the same check.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import typer
import yaml
from rich.markup import escape
from rich.table import Table

from nyxmon.checktypes import CHECK_TYPES
from nyxmon.checktypes.durations import duration_fields
from nyxmon.checktypes.secrets import mask_check_params
from nyxmon.cli import check_edit
from nyxmon.cli._common import (
    STATE_STYLE,
    ConfigOption,
    DbOption,
    JsonOption,
    ago,
    console,
    fail,
    load,
    open_cli_store,
    plural,
    print_json,
    usage,
)
from nyxmon.cli.check_state import describe_state, schedule_of, state_of
from nyxmon.config import AgentConfig, spell_duration
from nyxmon.domain.locations import is_stale, stale_after, views_of
from nyxmon.domain.model import Check, Result
from nyxmon.service_layer.records.catalog import CheckQuery
from nyxmon.service_layer.stored_status import stored_statuses

app = typer.Typer(help="List, inspect, run and change checks.", no_args_is_help=True)
app.command("add")(check_edit.add)
app.command("remove")(check_edit.remove)
app.command("pause")(check_edit.pause)
app.command("resume")(check_edit.resume)

_MESSAGE_WIDTH = 60


@app.command("list")
def list_checks(
    service: str | None = typer.Option(None, "--service", help="Only this service's checks."),
    type_: str | None = typer.Option(None, "--type", help="Only checks of this type."),
    label: list[str] = typer.Option([], "--label", help="Only checks with label KEY=VALUE."),  # noqa: B008
    as_json: bool = JsonOption,
    config: Path | None = ConfigOption,
    db: Path | None = DbOption,
) -> None:
    """Every live check with its state (as the agent stored it) and last result."""
    labels = dict(check_edit.pair(item, "--label") for item in label)
    store = open_cli_store(config, db, readonly=True)
    try:
        page = store.list_checks(CheckQuery(service=service, type=type_, labels=labels))
        statuses = stored_statuses(store, page.items)
    finally:
        store.close()
    if as_json:
        from nyxmon.cli.json_shapes import checks_page

        print_json(checks_page(page.items, statuses, page.total))
        return
    # Ids are never cut: their column is as wide as the longest, the message gives way.
    widest = max((len(check.id) for check in page.items), default=2)
    table = Table(title=plural(page.total, "check"))
    table.add_column("id", no_wrap=True, min_width=widest)
    for column in ("service", "type", "every", "state", "last result"):
        table.add_column(column)
    table.add_column("message", overflow="fold")
    for check in page.items:
        status = statuses.get(check.id)
        state = state_of(check, status)
        table.add_row(
            escape(check.id),
            escape(check.service),
            check.type,
            spell_duration(check.interval),
            f"[{STATE_STYLE.get(state, '')}]{state}[/]",
            ago(status.last_result_at if status is not None else None),
            escape((status.last_message if status is not None else "")[:_MESSAGE_WIDTH]),
        )
    console.print(table)


@app.command("show")
def show(
    check_id: str = typer.Argument(..., metavar="ID"),
    as_json: bool = JsonOption,
    config: Path | None = ConfigOption,
    db: Path | None = DbOption,
) -> None:
    """One check's settings, its alert state, 24 h availability and last results."""
    loaded = load(config) if db is None else None  # the file's lease period, when read
    store = open_cli_store(config, db, readonly=True, loaded=loaded)
    try:
        check = store.get_check(check_id, include_archived=True)
        if check is None:
            fail(f"ID: no check with id {check_id!r} (see `nyxmon check list`)")
        status = stored_statuses(store, [check])[check.id]
        now = time.time()
        day = store.availability(check_id, now=now, window=86400)
        recent = store.results(check_id, limit=10).items
        stored_views = store.location_views([check_id]).get(check_id, ())
    finally:
        store.close()
    lease = loaded.agent.lease_seconds if loaded is not None else AgentConfig().lease_seconds
    if as_json:
        from nyxmon.cli.json_shapes import check_with_history
        from nyxmon.web.api.schemas import location_views_out

        views = location_views_out(check, stored_views, now=now, lease_seconds=lease)
        print_json(check_with_history(check, status, day, recent, views))
        return
    table = Table(show_header=False, box=None)
    for key, value in (
        ("id", check.id),
        ("service", check.service),
        ("name", check.name),
        ("type", check.type),
        (
            "interval / timeout",
            f"{spell_duration(check.interval)} / {spell_duration(check.timeout)}",
        ),
        ("source", check.source.value),
        ("state", describe_state(check, status)),
        ("schedule", schedule_of(check)),
        ("conditions", "\n".join(check.conditions) or "-"),
        ("labels", ", ".join(f"{k}={v}" for k, v in check.labels.items()) or "-"),
        ("params", _params(check)),
        (
            "24h uptime",
            f"{day.uptime_pct:.2f}% of {plural(day.count, 'run')}"
            if day.uptime_pct is not None
            else "-",
        ),
    ):
        table.add_row(f"[bold]{key}[/]", escape(value))
    if check.locations:
        table.add_row(
            "[bold]locations[/]",
            escape(f"{', '.join(check.locations)}; down when {check.quorum_needed} see it down"),
        )
        limit = stale_after(check.interval, lease)
        for view in views_of(check.id, check.locations, stored_views):
            stale = view.last_result_at is not None and is_stale(view, now, limit)
            state = view.state.value
            since = (
                dt.datetime.fromtimestamp(view.since).strftime("%H:%M:%S") if view.since else "-"
            )
            agent = f", agent {view.agent_id}" if view.agent_id is not None else ""
            table.add_row(
                f"  {escape(view.location)}",
                f"[{STATE_STYLE.get(state, '')}]{'stale' if stale else state}[/] since {since},"
                f" last run {ago(view.last_result_at)}{agent} {escape(view.message)}",
            )
    console.print(table)
    for stored in recent:
        r = stored.result
        when = dt.datetime.fromtimestamp(r.started_at).strftime("%H:%M:%S")
        style = STATE_STYLE.get(r.outcome.value, "")
        console.print(
            f"  {when} [{style}]{r.outcome.value}[/] {r.duration * 1000:.0f} ms {escape(r.message)}"
        )


def _params(check: Check) -> str:
    """The type's own settings as the file writes them, durations spelled (``500ms``),
    secrets masked as everywhere they are shown."""
    declared = CHECK_TYPES.get(check.type)
    spelled = duration_fields(declared.params) if declared is not None else frozenset()
    shown = {
        key: spell_duration(value) if key in spelled and isinstance(value, int | float) else value
        for key, value in mask_check_params(check.type, check.params).items()
    }
    return yaml.safe_dump(shown, sort_keys=True).strip()


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

    if not all_ and not check_ids:
        usage("give check ids to run, or --all")
    store = open_cli_store(config, db, readonly=True)
    try:
        if all_:
            checks = list(store.list_checks(CheckQuery()).items)
        else:
            checks = []
            for check_id in check_ids:
                found = store.get_check(check_id)
                if found is None:
                    fail(f"ID: no check with id {check_id!r} (see `nyxmon check list`)")
                checks.append(found)
    finally:
        store.close()
    failed = 0

    def show_result(result: Result) -> None:
        nonlocal failed
        failed += not result.ok
        style = STATE_STYLE.get(result.outcome.value, "")
        label = result.outcome.value + (" (degraded)" if result.degraded else "")
        console.print(
            f"[{style}]{label:>8}[/] {escape(result.check_id)}  {result.duration * 1000:.0f} ms"
            f"  {escape(result.message)}"
        )

    with check_runner() as runner:
        runner.run_all(checks, show_result)
    console.print(f"{len(checks) - failed} of {len(checks)} passed")
    raise typer.Exit(1 if failed else 0)


__all__ = ["app"]
