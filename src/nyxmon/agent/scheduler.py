"""The scheduler: runs every active check on its own start-to-start schedule.

The original collector claimed at most 100 due checks per poll and waited for the whole batch,
so one slow check delayed all the others. Here each run is its own task and its result goes to
the sink the moment it exists; nothing ever waits for a batch.

Timing rules:

- Start-to-start without drift: run ``n`` of a check is due at ``anchor + n * interval`` (an
  integer count, not an accumulated float), however long the runs take.
- No thundering herd: a check's phase within its interval comes from a stable hash of its id,
  so first runs spread evenly and the phase survives restarts.
- A check never runs twice at once: if it is still running (or still waiting for a free slot)
  when its next run is due, that run is skipped and counted as an overrun, not queued.
- Limits: at most ``concurrency`` runs in flight and ``per_host`` per target host; a run that
  waits for a busy host does not hold up runs for other hosts.

Time is the event loop's clock (``anyio.current_time()``), so tests can drive the scheduler on
virtual time (a virtual-clock asyncio loop, trio's ``MockClock``); ``scheduled_at`` in results is
converted to wall-clock time.
"""

from __future__ import annotations

import asyncio
import hashlib
import heapq
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.abc

from nyxmon.domain.model import Check, Outcome, Result
from nyxmon.runtime import LagWindow, WindowStats

__all__ = ["RunCheck", "Scheduler", "SchedulerStatistics", "phase_of"]

log = logging.getLogger(__name__)

RunCheck = Callable[[Check, float], Awaitable[Result]]
"""Runs one check once: ``await run(check, scheduled_at_wall)`` -> Result (never raises)."""

_IDLE, _WAITING, _RUNNING = 0, 1, 2
_WALL_CLOCK_STEP = 1.0  # seconds the wall clock may drift from the loop's before we follow it


def _ignore(_: object) -> None:
    pass


def phase_of(check_id: str) -> float:
    """A stable fraction in [0, 1) for ``check_id`` (the same in every process and release)."""
    digest = hashlib.blake2b(check_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def target_host(check: Check) -> str:
    """The host a check talks to, for the per-host limit ("" when it has none)."""
    params = check.params
    url = params.get("url")
    if isinstance(url, str):
        rest = url.split("://", 1)[-1]
        return rest.split("/", 1)[0].rsplit("@", 1)[-1].lower()
    server = params.get("server") or params.get("host")
    return str(server).lower() if server else ""


@dataclass(frozen=True, slots=True)
class SchedulerStatistics:
    """Counts since start; ``start_lag`` is actual start minus due time, in seconds."""

    checks: int
    in_flight: int
    waiting: int
    due: int
    started: int
    completed: int
    overruns: int
    sink_failures: int
    start_lag: WindowStats


class _Slot:
    """A check's place in the schedule. ``generation`` invalidates stale heap entries."""

    __slots__ = (
        "anchor",
        "check",
        "extra",
        "generation",
        "host",
        "interval",
        "n",
        "reanchor",
        "removed",
        "state",
    )

    def __init__(self, check: Check, generation: int) -> None:
        self.check = check
        self.interval = check.interval
        self.anchor = 0.0
        self.n = 0
        self.generation = generation
        self.host = target_host(check)
        self.state = _IDLE
        self.removed = False
        self.reanchor = False
        self.extra = False  # the current run was asked for (run_now), not scheduled

    def due(self) -> float:
        return self.anchor + self.n * self.interval


class Scheduler:
    """Start-to-start scheduling of checks on the current event loop.

    All methods except :meth:`statistics` must be called on the loop thread (from the Runtime:
    ``runtime.run_sync_soon(scheduler.set_checks, checks)``).
    """

    def __init__(
        self,
        run: RunCheck,
        *,
        concurrency: int = 500,
        per_host: int = 20,
        lag_window: int = 8192,
        wall_clock: Callable[[], float] = time.time,
        tick: float = 0.002,
    ) -> None:
        if concurrency < 1 or per_host < 1:
            raise ValueError(f"concurrency and per_host must be >= 1: {concurrency}, {per_host}")
        self._run = run
        self._sink: Callable[[Result], Any] = _ignore
        self._concurrency = concurrency
        self._per_host = per_host
        self._wall_clock = wall_clock
        self._tick = tick
        self._lag = LagWindow(lag_window)
        self._slots: dict[str, _Slot] = {}
        self._heap: list[tuple[float, int, int, str]] = []  # (due, generation, tiebreak, id)
        self._ready: deque[tuple[_Slot, float]] = deque()
        self._host_waiting: dict[str, deque[tuple[_Slot, float]]] = {}
        self._host_busy: dict[str, int] = {}
        self._in_flight = 0
        self._waiting = 0
        self._generation = 0
        self._seq = 0
        self._tg: anyio.abc.TaskGroup | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._now: Callable[[], float] = anyio.current_time
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake: anyio.Event | None = None
        self._stopping = False
        self._idle: anyio.Event | None = None
        self._sleep_until = -math.inf
        self._result_waiters: dict[str, list[Callable[[Result | None], Any]]] = {}
        self._wall_offset = 0.0
        self._due = self._started = self._completed = self._overruns = self._sink_failures = 0

    # -- control (loop thread) ------------------------------------------------------------------
    def set_checks(self, checks: Iterable[Check]) -> None:
        """Make the schedule match ``checks`` (inactive ones are dropped). Unchanged checks keep
        their timing; a check whose interval changed is re-anchored on its stable phase."""
        now = anyio.current_time() if self._tg is not None else None
        wanted = {c.id: c for c in checks if c.active}
        for check_id in list(self._slots):
            if check_id not in wanted:
                self._slots.pop(check_id).removed = True  # heap entries go stale; a run in
                # flight still delivers its result, a waiting one is dropped
        for check_id, check in wanted.items():
            slot = self._slots.get(check_id)
            if slot is None:
                self._generation += 1
                slot = self._slots[check_id] = _Slot(check, self._generation)
            else:
                # Mutate in place: a run waiting or in flight refers to this very object.
                slot.check = check
                slot.host = target_host(check)
                if slot.interval == check.interval:
                    continue
                slot.interval = check.interval
                self._generation += 1
                slot.generation = self._generation
                if slot.state != _IDLE:
                    slot.reanchor = True  # placed anew when its current run ends
                    continue
            if now is not None:
                self._anchor(slot, now)
        if self._wake is not None:
            self._wake.set()

    def run_now(self, check_id: str, on_result: Callable[[Result | None], Any]) -> bool:
        """Run a scheduled check as soon as a slot is free and call ``on_result`` with its result
        (which also goes to the sink as usual). A check never runs twice at once: if it is
        running or waiting already, ``on_result`` gets that run's result. Its schedule is kept.
        Returns False if the scheduler does not run this check (unknown, paused, disabled);
        ``on_result(None)`` if the run is dropped (check removed, scheduler stopping)."""
        slot = self._slots.get(check_id)
        if slot is None or self._stopping or self._tg is None:
            return False
        self._result_waiters.setdefault(check_id, []).append(on_result)
        if slot.state == _IDLE:
            self._generation += 1
            slot.generation = self._generation  # its pending heap entry goes stale
            slot.extra = True
            slot.state = _WAITING
            self._waiting += 1
            self._ready.appendleft((slot, anyio.current_time()))
            self._launch()
        return True

    def run_after(self, check_id: str, delay: float) -> None:
        """Run a check once more ``delay`` seconds from now, outside its schedule (a retry after
        a failure). Dropped if the check is busy then, or gone; never two runs at once."""

        def due() -> None:
            self.run_now(check_id, _ignore)

        if self._loop is not None:
            self._loop.call_later(max(0.0, delay), due)
        elif self._tg is not None:
            self._tg.start_soon(self._run_after_trio, delay, due)

    @staticmethod
    async def _run_after_trio(delay: float, due: Callable[[], None]) -> None:
        await anyio.sleep(delay)
        due()

    def stop(self) -> None:
        """Start no more runs; runs in flight finish and deliver their results."""
        self._stopping = True
        if self._wake is not None:
            self._wake.set()

    async def wait_idle(self) -> None:
        """Wait until no run is in flight (after :meth:`stop`, for a graceful shutdown)."""
        while self._in_flight:
            self._idle = anyio.Event()
            await self._idle.wait()

    @property
    def running(self) -> bool:
        """Whether :meth:`run` is scheduling (read it on the loop thread)."""
        return self._tg is not None and not self._stopping

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def statistics(self) -> SchedulerStatistics:
        return SchedulerStatistics(
            checks=len(self._slots),
            in_flight=self._in_flight,
            waiting=self._waiting,
            due=self._due,
            started=self._started,
            completed=self._completed,
            overruns=self._overruns,
            sink_failures=self._sink_failures,
            start_lag=self._lag.stats(),
        )

    # -- the loop -------------------------------------------------------------------------------
    async def run(
        self,
        sink: Callable[[Result], Any],
        *,
        task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        """Schedule until :meth:`stop`, handing every result to ``sink`` the moment it
        exists; then wait for runs in flight and return. ``task_status.started()`` is called
        once runs can be asked for (``run_now``).

        Cancelling it cancels the runs in flight too.
        """
        self._sink = sink
        self._stopping = False
        self._wall_offset = self._wall_clock() - anyio.current_time()
        self._wake = anyio.Event()
        # On asyncio, runs are plain tasks: anyio's task group costs ~10x more per task, and
        # a busy agent starts thousands a second. Elsewhere (trio) the task group.
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None
        else:
            self._now = self._loop.time  # what anyio.current_time() returns, minus its lookup
        try:
            async with anyio.create_task_group() as tg:
                self._tg = tg
                now = anyio.current_time()
                for slot in self._slots.values():
                    self._anchor(slot, now)
                task_status.started()
                while not self._stopping:
                    now = self._now()
                    self._release_due(now)
                    self._launch()
                    delay = self._heap[0][0] - now if self._heap else math.inf
                    if delay > 0:
                        # Sleep in quanta of at least ``tick``: thousands of checks spread
                        # over an interval would otherwise wake the loop for each of them.
                        delay = max(delay, self._tick)
                        self._sleep_until = now + delay
                        with anyio.move_on_after(delay):
                            await self._wake.wait()
                        self._sleep_until = -math.inf
                    if self._wake.is_set():
                        self._wake = anyio.Event()
                self._drop_waiting()
                await self.wait_idle()
                tg.cancel_scope.cancel()  # all runs are over; drop pending run_after delays
        finally:
            # Cancelled (or done): runs that are still finishing must not start new ones.
            self._stopping = True
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            if tasks:
                # Like the task group on trio: return only once the cancelled runs have ended.
                with anyio.CancelScope(shield=True):
                    await asyncio.wait(tasks)
            self._drop_waiting()  # run-now callers of checks still queued hear "dropped"
            self._tg = None

    def _anchor(self, slot: _Slot, now: float) -> None:
        """Place the slot's first run at the next instant of its stable phase."""
        interval = slot.interval
        phase = phase_of(slot.check.id) * interval
        wall_now = now + self._wall_offset
        offset = (phase - wall_now) % interval
        slot.anchor = now + offset
        slot.n = 0
        self._push(slot)

    def _push(self, slot: _Slot) -> None:
        self._seq += 1
        due = slot.due()
        heapq.heappush(self._heap, (due, slot.generation, self._seq, slot.check.id))
        if due < self._sleep_until and self._wake is not None:
            self._wake.set()  # earlier than the loop planned to wake up

    def _release_due(self, now: float) -> None:
        """Move every due check to the ready queue.

        A busy check (waiting for a free slot or running) is not in the heap: it goes back when
        its run ends (:meth:`_reschedule`). So a heap entry costs one push and one pop per run,
        not per slot, which matters when an overloaded agent skips thousands of slots a second.
        """
        heap = self._heap
        while heap and heap[0][0] <= now:
            due, generation, _, check_id = heapq.heappop(heap)
            slot = self._slots.get(check_id)
            if slot is None or slot.generation != generation or slot.state != _IDLE:
                continue  # removed, re-anchored or (defensively) busy since it was pushed
            self._due += 1
            # If the loop itself fell behind by whole intervals, run once, at the latest slot;
            # the missed ones are skipped (counted), never queued up behind each other.
            missed = int((now - due) // slot.interval)
            if missed:
                self._overruns += missed
                self._due += missed
                slot.n += missed
            slot.state = _WAITING
            self._waiting += 1
            self._ready.append((slot, slot.due()))

    def _reschedule(self, slot: _Slot, now: float) -> None:
        """Put a check whose run ended back into the heap at its next slot after ``now``."""
        if slot.removed or self._stopping:
            return
        if slot.reanchor:
            slot.reanchor = False
            self._anchor(slot, now)
            return
        if slot.extra:  # back to the schedule: its first slot after now, nothing overran
            slot.extra = False
            slot.n = max(slot.n, math.floor((now - slot.anchor) / slot.interval) + 1)
            self._push(slot)
            return
        slot.n += 1
        due = slot.due()
        if due <= now:  # the run outlasted slots of its own: skip them, count the overruns
            missed = int((now - due) // slot.interval) + 1
            self._overruns += missed
            self._due += missed
            slot.n += missed
        self._push(slot)

    def _launch(self) -> None:
        ready = self._ready
        while ready and self._in_flight < self._concurrency:
            slot, due = ready.popleft()
            host = slot.host
            if host and self._host_busy.get(host, 0) >= self._per_host and not slot.removed:
                self._host_waiting.setdefault(host, deque()).append((slot, due))
                continue
            self._start(slot, due)

    def _start(self, slot: _Slot, due: float) -> None:
        self._waiting -= 1
        if slot.removed:
            slot.state = _IDLE
            self._notify_waiters(slot.check.id, None)
            return
        assert self._tg is not None
        slot.state = _RUNNING
        self._in_flight += 1
        self._started += 1
        host = slot.host
        if host:
            self._host_busy[host] = self._host_busy.get(host, 0) + 1
        if self._loop is not None:
            task = self._loop.create_task(self._execute(slot, slot.check, due, host))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:
            self._tg.start_soon(self._execute, slot, slot.check, due, host)

    async def _execute(self, slot: _Slot, check: Check, due: float, host: str) -> None:
        now = self._now()
        lag = max(0.0, now - due)
        self._lag.add(lag)
        scheduled_at = due + self._wall_offset_at(now)
        try:
            result = await self._run(check, scheduled_at)
        except Exception as exc:  # runners must not raise; if one does, record it as an error
            log.exception("running check %r raised instead of returning a result", check.id)
            result = Result(
                check_id=check.id,
                scheduled_at=scheduled_at,
                started_at=self._wall_clock(),
                duration=0.0,
                outcome=Outcome.ERROR,
                message=f"internal error: {type(exc).__name__}: {exc}",
            )
        finally:
            self._finished(slot, host)
        self._completed += 1
        try:
            self._sink(result)
        except Exception:
            self._sink_failures += 1
            log.exception("handing over the result of check %r failed", check.id)
        self._notify_waiters(check.id, result)

    def _wall_offset_at(self, now: float) -> float:
        """Wall-clock minus loop time, taken again when the wall clock was stepped.

        Runs follow the loop's monotonic clock whatever the wall clock does; but a result
        stamped ``due + offset`` with the offset of start-up would, after the wall clock is
        set hours forward or back (NTP stepping it, ``date -s``), say it was due hours before
        or after it started.
        """
        offset = self._wall_clock() - now
        if abs(offset - self._wall_offset) > _WALL_CLOCK_STEP:
            log.warning(
                "the wall clock moved by %+.1f s; runs keep their schedule, results are stamped "
                "on the new time",
                offset - self._wall_offset,
            )
            self._wall_offset = offset
        return self._wall_offset

    def _notify_waiters(self, check_id: str, result: Result | None) -> None:
        for waiter in self._result_waiters.pop(check_id, ()):
            try:
                waiter(result)
            except Exception:
                log.exception("a run-now waiter of check %r failed", check_id)

    def _finished(self, slot: _Slot, host: str) -> None:
        slot.state = _IDLE
        self._in_flight -= 1
        self._reschedule(slot, self._now())
        if host:
            self._host_busy[host] -= 1
            queued = self._host_waiting.get(host)
            if queued and not self._stopping:
                self._start(*queued.popleft())
        if not self._stopping:
            self._launch()
        if not self._in_flight and self._idle is not None:
            self._idle.set()

    def _drop_waiting(self) -> None:
        for slot, _ in self._ready:
            slot.state = _IDLE
        for queued in self._host_waiting.values():
            for slot, _ in queued:
                slot.state = _IDLE
        self._waiting = 0
        self._ready.clear()
        self._host_waiting.clear()
        for check_id in list(self._result_waiters):
            self._notify_waiters(check_id, None)
