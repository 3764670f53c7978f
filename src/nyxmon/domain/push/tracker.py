"""One push check's clock: when the next ping is due, which runs are open, what a ping means.

Pure and clock-free: every method takes the time it is called at, so the schedule and deadline
arithmetic is tested with made-up instants (tests/unit/push). The application owns one tracker
per push check on the dispatcher thread; the agent's deadline timer only wakes it at
:meth:`PushTracker.deadline`.

The rules (Healthchecks' model):

- a ``success`` or ``fail`` ping ends a slot: the next ping is expected at the schedule's next
  time after it (``expected_at``), and the check is missing once ``expected_at + grace``
  passes (one missed result per missed slot; after a long silence the slots in between are
  counted in one result, not one each);
- a ping after ``expected_at`` is *late* (still within the grace), one more than
  ``tolerance`` before it is *early* (never the first ping: there is no rhythm to be early
  for yet): both are shown, neither fails the check;
- a ``start`` opens a run (keyed by ``rid``); the ``success`` or ``fail`` with the same rid
  ends it and gets its duration; a run still open ``timeout`` seconds after its start fails;
- ``log`` pings change nothing but the record.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Literal

from nyxmon.domain.durations import human_duration
from nyxmon.domain.push.ping import PingKind
from nyxmon.domain.push.schedule import PushSchedule

__all__ = ["MAX_OPEN_RUNS", "Missed", "PingVerdict", "PushTracker", "Timing"]

Timing = Literal["on time", "late", "early"]
MAX_OPEN_RUNS = 64
"""Starts remembered per check; a job that only ever starts cannot grow the agent's memory."""


@dataclass(frozen=True, slots=True)
class PingVerdict:
    """What a ping meant: its ``timing`` against ``expected_at`` (runs' ends only) and the
    ``duration`` of the run it ended (None without a matching start)."""

    timing: Timing | None
    expected_at: float | None
    duration: float | None
    started_at: float | None = None


@dataclass(frozen=True, slots=True)
class Missed:
    """A deadline that passed: no ping for the slot expected at ``expected_at`` (``kind``
    ``missing``, ``slots`` of them), or a run started at ``expected_at`` that did not end
    within the timeout (``run``)."""

    kind: Literal["missing", "run"]
    expected_at: float
    deadline: float
    message: str
    slots: int = 1
    rid: str | None = None


class PushTracker:
    """The expected time, the open runs and the deadline of one push check."""

    __slots__ = ("expected_at", "last_ping_at", "open_runs", "schedule", "timeout")

    def __init__(self, schedule: PushSchedule, timeout: float, anchor: float) -> None:
        self.schedule = schedule
        self.timeout = timeout
        self.expected_at = schedule.next_after(anchor)
        self.last_ping_at: float | None = None
        self.open_runs: dict[str, float] = {}

    @property
    def tolerance(self) -> float:
        """How early a ping may come and still be on time: the grace, else a tenth of the
        period (a job's own jitter is no news)."""
        return self.schedule.grace or self.schedule.period / 10

    def deadline(self) -> float:
        """When the check fails next unless a ping comes (``inf``: never)."""
        deadline = self.expected_at + self.schedule.grace
        if self.open_runs:
            deadline = min(deadline, min(self.open_runs.values()) + self.timeout)
        return deadline

    # -- events --------------------------------------------------------------------------------
    def on_ping(self, kind: PingKind, at: float, rid: str | None = None) -> PingVerdict:
        """Apply a ping received at ``at``."""
        if kind is PingKind.LOG:
            return PingVerdict(None, None, None)
        if kind is PingKind.START:
            if len(self.open_runs) >= MAX_OPEN_RUNS and (rid or "") not in self.open_runs:
                oldest = min(self.open_runs, key=self.open_runs.__getitem__)
                del self.open_runs[oldest]
            self.open_runs[rid or ""] = at
            return PingVerdict(None, None, None)
        started = self.open_runs.pop(rid or "", None)
        expected = self.expected_at
        timing: Timing
        if at > expected:
            timing = "late"
        elif at < expected - self.tolerance and self.last_ping_at is not None:
            timing = "early"
        else:
            timing = "on time"
        self.last_ping_at = at
        self.expected_at = self.schedule.next_after(at)
        duration = None if started is None else max(0.0, at - started)
        return PingVerdict(timing, expected, duration, started)

    def due(self, now: float) -> list[Missed]:
        """The deadlines that passed by ``now`` (each reported once), oldest first."""
        missed: list[Missed] = []
        for rid, started in sorted(self.open_runs.items(), key=lambda item: item[1]):
            if started + self.timeout <= now:
                del self.open_runs[rid]
                missed.append(
                    Missed(
                        "run",
                        started,
                        started + self.timeout,
                        f"the run started at {_clock(started)} did not end within its "
                        f"timeout ({human_duration(self.timeout)})",
                        rid=rid or None,
                    )
                )
        grace = self.schedule.grace
        expected = self.expected_at
        if expected + grace <= now:
            following = self._first_slot_after(now - grace)
            slots = self._slots_between(expected, following)
            since = (
                f"the last at {_clock(self.last_ping_at)}"
                if self.last_ping_at is not None
                else "none received yet"
            )
            late = f"{slots} expected pings missed" if slots > 1 else "no ping"
            missed.append(
                Missed(
                    "missing",
                    expected,
                    expected + grace,
                    f"{late}: expected by {_clock(expected)}"
                    + (f" + {human_duration(grace)} grace" if grace else "")
                    + f" ({since})",
                    slots=slots,
                )
            )
            self.expected_at = following
        missed.sort(key=lambda m: m.deadline)
        return missed

    def resume(self, now: float) -> None:
        """The check was paused or the agent down: expect the next ping a slot from ``now``,
        and forget runs whose end cannot be told from a missed one anymore."""
        self.expected_at = self.schedule.next_after(now)
        self.open_runs.clear()

    # -- helpers -------------------------------------------------------------------------------
    def _first_slot_after(self, t: float) -> float:
        schedule = self.schedule
        if schedule.cron is None:  # stay on the grid of the last ping
            steps = math.floor((t - self.expected_at) / schedule.period) + 1
            return self.expected_at + max(1, steps) * schedule.period
        return schedule.next_after(t)

    def _slots_between(self, first: float, following: float) -> int:
        schedule = self.schedule
        if schedule.cron is None:
            return max(1, round((following - first) / schedule.period))
        slots, t = 0, first
        while t < following and slots < 10_000:
            slots += 1
            t = schedule.next_after(t)
        return max(1, slots)


def _clock(t: float | None) -> str:
    """``2025-01-31 14:05:09 UTC``: the one way a push message names an instant."""
    if t is None or not math.isfinite(t):
        return "never"
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(t))
