"""``nyxmon db info``: where the data is and how much of it there is."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer
from rich.table import Table

from nyxmon.cli._common import ConfigOption, DbOption, console, open_cli_store

app = typer.Typer(help="Inspect the database.", no_args_is_help=True)


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


@app.command("info")
def info(config: Path | None = ConfigOption, db: Path | None = DbOption) -> None:
    """Location, size, schema version, row counts and the time span of results."""
    store = open_cli_store(config, db, readonly=True)
    try:
        data = store.db_info()
    finally:
        store.close()
    table = Table(show_header=False, box=None)
    table.add_row("location", data.location)
    table.add_row("size", f"{data.size_bytes / 1_048_576:.1f} MiB")
    table.add_row("schema version", str(data.schema_version))
    for name, count in data.row_counts.items():
        table.add_row(f"rows: {name}", f"{count:,}")
    table.add_row("oldest result", _when(data.oldest_result_at))
    table.add_row("newest result", _when(data.newest_result_at))
    table.add_row("hourly rollups up to", _when(data.hourly_rolled_up_to))
    table.add_row("daily rollups up to", _when(data.daily_rolled_up_to))
    console.print(table)
