"""Optional reporting of runtime figures into a metrics recorder.

The runtime imports nothing else of NyxMon, so it only knows the one-method :class:`EventSink`
shape (``nyxmon.metrics.Recorder`` is one) and emits small NamedTuples that a recorder routes by
type. Emission is cheap and rare by design: the Dispatcher reports per batch, never per event; the
Runtime per lag-probe sample (every 50 ms) and per task failure; the OffloadPool per operation,
which is heavy anyway. A sink that raises never breaks the component that reports into it.
"""

from __future__ import annotations

import logging
from typing import NamedTuple, Protocol

__all__ = [
    "DispatchBatch",
    "EventSink",
    "LoopLagSample",
    "OffloadOp",
    "TaskFailed",
    "emit",
]

log = logging.getLogger(__name__)


class EventSink(Protocol):
    """Anything with a cheap, non-blocking, thread-safe ``register_event``."""

    def register_event(self, event: object, /) -> None: ...


class LoopLagSample(NamedTuple):
    """One loop-lag probe reading of a Runtime: how late its timer fired, in seconds."""

    runtime: str
    lag: float


class TaskFailed(NamedTuple):
    """A spawned task (``kind="task"``) or a ``run_sync_soon`` callback (``"callback"``) failed."""

    runtime: str
    task: str
    kind: str


class DispatchBatch(NamedTuple):
    """One Dispatcher batch: its size, the largest and summed lag (seconds), the depth before it."""

    dispatcher: str
    size: int
    max_lag: float
    lag_sum: float
    queue_depth: int


class OffloadOp(NamedTuple):
    """One OffloadPool operation: seconds queued and running, how it ended, pool load at the end.

    ``outcome`` is ``ok``, ``error``, ``late`` (finished after its deadline, result dropped) or
    ``expired`` (deadline passed before a worker took it; ``run_time`` is 0).
    """

    pool: str
    queue_wait: float
    run_time: float
    outcome: str
    active: int
    queued: int


_complained: set[int] = set()


def emit(sink: EventSink, event: object) -> None:
    """Hand ``event`` to ``sink``; a failing sink is logged once and otherwise ignored."""
    try:
        sink.register_event(event)
    except Exception:
        if id(sink) not in _complained:
            _complained.add(id(sink))
            log.exception("metrics sink %r refused a runtime event %r", sink, event)
