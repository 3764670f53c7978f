"""``nyxmon db info``: where the data is, how much of it there is, and how big it will get;
``nyxmon db copy``: move an installation from its SQLite file to PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer
from rich.table import Table

from nyxmon.cli._common import (
    ConfigOption,
    DbOption,
    console,
    fail,
    load_for_defaults,
    open_cli_store,
)
from nyxmon.config.settings import RetentionPolicy
from nyxmon.domain.history.figures import DAY
from nyxmon.errors import NyxmonError
from nyxmon.service_layer.records.upkeep import DbInfo, Retention

app = typer.Typer(help="Inspect the database.", no_args_is_help=True)


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


def _size(size: float) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:,.1f} {unit}"
    return f"{size:,.0f} B"


def _retention(config: Path | None, db: Path | None) -> tuple[Retention, str]:
    """The retention of the config (the one the agent uses), else the defaults."""
    loaded = load_for_defaults(config, db)
    policy = loaded.agent.retention if loaded is not None else RetentionPolicy()
    where = "the config" if loaded is not None else "the defaults"
    days = Retention(policy.raw / DAY, policy.hourly / DAY, policy.daily / DAY)
    return days, where


def storage_rows(data: DbInfo, retention: Retention, source: str) -> list[tuple[str, str]]:
    """The size figures of ``nyxmon db info``: bytes per result, the current rate, and the
    size the database settles at if results keep coming at that rate."""
    figures = data.storage
    if figures is None:
        return [("bytes per result", "- (this SQLite cannot tell: no dbstat)")]
    rows = []
    per_result = figures.bytes_per_result
    rows.append(("bytes per result", "-" if per_result is None else f"{per_result:,.1f}"))
    packed = figures.packed_bytes_per_result
    recent = figures.recent_bytes / figures.recent_results if figures.recent_results else None
    rows.append(
        (
            "  packed (older hours)",
            "-" if packed is None else f"{packed:,.1f} ({figures.packed_results:,} results)",
        )
    )
    rows.append(
        (
            "  one row each (newest hours)",
            "-" if recent is None else f"{recent:,.1f} ({figures.recent_results:,} results)",
        )
    )
    rows.append(("results in the last day", f"{figures.results_last_day:,}"))
    projected = figures.projected_bytes(retention)
    rows.append(
        (
            "projected size",
            "- (nothing packed yet: ask again in two hours)"
            if projected is None
            else f"{_size(projected)} at this rate, keeping raw results "
            f"{retention.raw_days:g} d, hourly {retention.hourly_days:g} d, daily "
            f"{retention.daily_days:g} d (from {source})",
        )
    )
    return rows


@app.command("info")
def info(config: Path | None = ConfigOption, db: Path | None = DbOption) -> None:
    """Location, size, schema version, row counts, the time span of results, bytes per result
    and the size the database will reach at the current rate and retention."""
    retention, source = _retention(config, db)
    store = open_cli_store(config, db, readonly=True)
    try:
        data = store.db_info()
    finally:
        store.close()
    table = Table(show_header=False, box=None)
    table.add_row("location", data.location)
    table.add_row("size", _size(data.size_bytes))
    table.add_row("schema version", str(data.schema_version))
    for name, count in data.row_counts.items():
        table.add_row(f"rows: {name}", f"{count:,}")
    table.add_row("oldest result", _when(data.oldest_result_at))
    table.add_row("newest result", _when(data.newest_result_at))
    table.add_row("hourly rollups up to", _when(data.hourly_rolled_up_to))
    table.add_row("daily rollups up to", _when(data.daily_rolled_up_to))
    for label, value in storage_rows(data, retention, source):
        table.add_row(label, value)
    console.print(table)


@app.command("copy")
def copy(
    source: str = typer.Argument(..., help="The SQLite database file to copy from."),
    target: str = typer.Argument(
        ..., help="The PostgreSQL database to copy into: postgresql://USER@HOST:PORT/DB"
    ),
    chunk: int = typer.Option(10_000, "--chunk", min=1, help="Rows per transaction."),
) -> None:
    """Copy checks, services, history and rollups, alert states, transitions, the outbox,
    users, tokens, sessions and settings from a SQLite file into PostgreSQL. Stop the agent
    first. Resumable: run it again after an interruption. Verified by row counts."""
    from nyxmon.store.postgres import is_postgres_dsn
    from nyxmon.store.postgres.connections import redact_dsn
    from nyxmon.store.postgres.copy_sqlite import copy_sqlite_to_postgres

    if not is_postgres_dsn(target):
        fail(f"TARGET: expected a postgresql:// URL, got {target!r}")

    def shown(table: str, copied: int, total: int) -> None:
        console.print(f"{table}: {copied:,} copied ({total:,} in the source)", markup=False)

    try:
        report = copy_sqlite_to_postgres(Path(source), target, chunk=chunk, progress=shown)
    except NyxmonError as exc:
        fail(str(exc))
    table = Table("table", "source rows", "target rows", "copied now", box=None)
    for name, (total, copied, now) in report.tables.items():
        table.add_row(name, f"{total:,}", f"{now:,}", f"{copied:,}")
    console.print(table)
    if not report.verified:
        wrong = [n for n, (total, _, now) in report.tables.items() if total != now]
        fail(f"row counts differ for {', '.join(wrong)}; the copy is not complete")
    console.print(
        f"verified: every table has the same row count in {redact_dsn(target)}; "
        f"set agent.database to the URL and start the agent",
        markup=False,
    )
