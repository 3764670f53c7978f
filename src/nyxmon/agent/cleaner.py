"""The cleaner: rolls results up into hours and days and enforces retention, in small steps.

Each step is one short transaction on the store writer's thread, queued between result batches,
so rolling up a backlog never holds the writer for long. A failing step is logged and counted
and tried again next period: the cleaner never takes the agent down.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import anyio

from nyxmon.agent.writer import StoreWriter
from nyxmon.service_layer.records.upkeep import Retention

__all__ = ["Cleaner", "CleanerStatistics"]

log = logging.getLogger(__name__)

# Steps share the writer thread with result batches; ~10k rows keeps each one short (measured
# up to ~200 ms at the store's default of 50k while a backlog is rolled up).
_ROLLUP_ROWS_PER_STEP = 10_000


@dataclass(frozen=True, slots=True)
class CleanerStatistics:
    passes: int
    steps: int
    rows_rolled_up: int
    rows_deleted: int
    failures: int


class Cleaner:
    """Every ``period`` seconds, roll up and clean until nothing is left to do."""

    def __init__(
        self,
        writer: StoreWriter,
        retention: Retention,
        *,
        period: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._writer = writer
        self._retention = retention
        self._period = period
        self._clock = clock
        self._passes = self._steps = self._rolled = self._deleted = self._failures = 0

    async def run(self) -> None:
        while True:
            await self.run_once()
            await anyio.sleep(self._period)

    async def run_once(self) -> None:
        """One full pass: every pending rollup, then every expired row."""
        store = self._writer.store
        try:
            while True:
                rollup = await self._writer.run_maintenance(
                    partial(store.rollup_step, max_rows=_ROLLUP_ROWS_PER_STEP), self._clock()
                )
                self._steps += 1
                self._rolled += rollup.rows_read
                if not rollup.more:
                    break
            while True:
                cleaned = await self._writer.run_maintenance(
                    store.cleaner_step, self._clock(), self._retention
                )
                self._steps += 1
                self._deleted += cleaned.raw_deleted + cleaned.hourly_deleted
                self._deleted += cleaned.daily_deleted
                if not cleaned.more:
                    break
            self._passes += 1
        except Exception:
            self._failures += 1
            log.exception("cleaner pass failed; trying again in %.0f s", self._period)

    def statistics(self) -> CleanerStatistics:
        return CleanerStatistics(
            passes=self._passes,
            steps=self._steps,
            rows_rolled_up=self._rolled,
            rows_deleted=self._deleted,
            failures=self._failures,
        )
