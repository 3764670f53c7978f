"""Keeping the database in shape: retention, rollup and cleaner reports, and db info."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["CleanerReport", "DbInfo", "Retention", "RollupReport", "StorageFigures"]


@dataclass(frozen=True, slots=True)
class Retention:
    """How many days each resolution is kept: raw results, hourly and daily rollups."""

    raw_days: float = 14.0
    hourly_days: float = 90.0
    daily_days: float = 730.0

    def __post_init__(self) -> None:
        for name in ("raw_days", "hourly_days", "daily_days"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ValueError(f"retention.{name} must be a positive number, got {value!r}")


@dataclass(frozen=True, slots=True)
class CleanerReport:
    """What one bounded cleaner step deleted and whether more is waiting."""

    raw_deleted: int = 0
    hourly_deleted: int = 0
    daily_deleted: int = 0
    more: bool = False

    @property
    def deleted(self) -> int:
        return self.raw_deleted + self.hourly_deleted + self.daily_deleted


@dataclass(frozen=True, slots=True)
class RollupReport:
    """What one bounded rollup step did; ``*_through`` is the first period not rolled up yet."""

    rows_read: int = 0
    hourly_written: int = 0
    daily_written: int = 0
    hourly_through: float | None = None
    daily_through: float | None = None
    more: bool = False


@dataclass(frozen=True, slots=True)
class StorageFigures:
    """Bytes the results take, for sizing: recent results (one row each) and packed ones
    (blocks and their templates) apart, indexes included, and the rollup rows."""

    recent_bytes: int
    recent_results: int
    packed_bytes: int
    packed_results: int
    rollup_bytes: int
    rollup_rows: int
    #: Results that started in the 24 hours up to the newest one: the current rate.
    results_last_day: int
    #: Live checks (each adds an hourly and a daily rollup row per period).
    checks: int

    @property
    def bytes_per_result(self) -> float | None:
        """Bytes per stored result over everything that holds results."""
        results = self.recent_results + self.packed_results
        return (self.recent_bytes + self.packed_bytes) / results if results else None

    @property
    def packed_bytes_per_result(self) -> float | None:
        """Bytes per result once packed: what all but the newest hour or two of them take."""
        return self.packed_bytes / self.packed_results if self.packed_results else None

    def projected_bytes(self, retention: Retention) -> int | None:
        """The size the results and rollups settle at if results keep arriving at the last
        day's rate and are kept ``retention`` long (None before any result is packed).

        Raw results: the packed size per result times a day's results times the raw days, plus
        the recent rows as they are now. Rollups: their size per row times one row per live
        check per hour (hourly) and per day (daily) times their retention.
        """
        per_result = self.packed_bytes_per_result
        if per_result is None:
            return None
        per_rollup = self.rollup_bytes / self.rollup_rows if self.rollup_rows else 120.0
        raw = per_result * self.results_last_day * retention.raw_days
        rollups = per_rollup * self.checks * (24 * retention.hourly_days + retention.daily_days)
        return round(raw + self.recent_bytes + rollups)


@dataclass(frozen=True, slots=True)
class DbInfo:
    """What ``nyxmon db info`` shows."""

    location: str
    size_bytes: int
    schema_version: int
    row_counts: Mapping[str, int]
    oldest_result_at: float | None
    newest_result_at: float | None
    hourly_rolled_up_to: float | None
    daily_rolled_up_to: float | None
    #: None where the store cannot tell (SQLite built without its dbstat table).
    storage: StorageFigures | None = None
