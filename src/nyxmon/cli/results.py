"""``nyxmon results CHECK``: a check's recent results, newest first."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from nyxmon.cli._common import (
    STATE_STYLE,
    ConfigOption,
    DbOption,
    JsonOption,
    console,
    fail,
    open_cli_store,
    plural,
    print_json,
    since_option,
)


def results_command(
    check: str = typer.Argument(..., help="The check's id (see `nyxmon check list`)."),
    since: str = typer.Option("1h", "--since", help="How far back: 15m, 1h, 7d."),
    limit: int = typer.Option(50, "--limit", min=1, max=10_000, help="At most this many rows."),
    as_json: bool = JsonOption,
    config: Path | None = ConfigOption,
    db: Path | None = DbOption,
) -> None:
    """Show a check's results since a time, newest first."""
    start = since_option(since)
    store = open_cli_store(config, db, readonly=True)
    try:
        if store.get_check(check, include_archived=True) is None:
            fail(f"CHECK: no check with id {check!r} (see `nyxmon check list`)")
        page = store.results(check, since=start, limit=limit)
        total = store.count_results(check, since=start)
    finally:
        store.close()
    if as_json:
        from nyxmon.cli.json_shapes import results_page

        print_json(results_page(page.items))
        return
    shown = f", the newest {len(page.items)} shown" if len(page.items) < total else ""
    table = Table(title=f"{escape(check)}: {plural(total, 'result')} since {since} ago{shown}")
    for column in ("started", "outcome", "duration", "lag", "message"):
        table.add_column(column, justify="right" if column in ("duration", "lag") else "left")
    for stored in page.items:
        r = stored.result
        outcome = r.outcome.value + (" (degraded)" if r.degraded else "")
        style = "yellow" if r.degraded else STATE_STYLE.get(r.outcome.value, "")
        table.add_row(
            dt.datetime.fromtimestamp(r.started_at).strftime("%H:%M:%S"),
            f"[{style}]{outcome}[/]",
            f"{r.duration * 1000:.1f} ms",
            f"{r.start_lag * 1000:.1f} ms",
            escape(r.message or ""),
        )
    console.print(table)
