"""Keeping the database in shape: retention, rollup and cleaner reports, and db info."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["CleanerReport", "DbInfo", "Retention", "RollupReport"]


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
