"""The ports the application drives, besides storage (:mod:`.storage`).

Each is a small Protocol an adapter implements; :mod:`nyxmon.bootstrap` passes the adapters
in. Every method here is called on the dispatcher thread and must return at once: blocking
work happens on the adapter's own thread, and what comes back arrives as a callback the
adapter runs on the dispatcher thread (the writer) or as a command (the notifier's outcomes).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from nyxmon.domain.model import Check
from nyxmon.domain.status import CheckStatus
from nyxmon.service_layer.records.alerts import OutboxEntry
from nyxmon.service_layer.records.batches import WriteBatch, WriteReceipt
from nyxmon.service_layer.unit_of_work import WriteOp

__all__ = [
    "BatchDone",
    "BatchWriter",
    "DeadlineTimer",
    "Deliveries",
    "NoDeadlines",
    "OpDone",
    "ProbeControl",
    "StatusSink",
]

BatchDone = Callable[[WriteReceipt | None, float, BaseException | None], None]
"""``done(receipt, seconds, error)``: exactly one of receipt and error is set."""

OpDone = Callable[[Any, BaseException | None], None]
"""``done(value, error)`` of a :class:`~nyxmon.service_layer.unit_of_work.WriteOp`."""


class BatchWriter(Protocol):
    """The one thread that writes agent-owned rows to the store.

    ``done`` runs on the dispatcher thread once the write ended, so the application can react
    without locks. Writes run in the order they were handed over.
    """

    def write(self, batch: WriteBatch, done: BatchDone) -> None: ...

    def run(self, op: WriteOp, done: OpDone) -> None: ...


class Deliveries(Protocol):
    """Where committed notifications go to be sent (the notifier); never blocks."""

    def deliver(self, entries: Sequence[OutboxEntry]) -> None: ...


class ProbeControl(Protocol):
    """What the application asks of the scheduler; never blocks."""

    def set_checks(self, checks: tuple[Check, ...]) -> None:
        """Schedule exactly these checks (inactive ones are not run)."""
        ...

    def run_after(self, check_id: str, delay: float) -> None:
        """Run a check once more ``delay`` seconds from now (a machine's retry)."""
        ...


class DeadlineTimer(Protocol):
    """Wakes the application when a push check's deadline comes (the agent's loop keeps the
    timers); never blocks. The wake-up arrives as a ``PushDeadline`` command."""

    def arm(self, check_id: str, at: float) -> None:
        """Wake at ``at`` (POSIX seconds) for ``check_id``, replacing its earlier timer."""
        ...

    def disarm(self, check_id: str) -> None:
        """No wake-up for ``check_id`` any more (removed, paused)."""
        ...


class NoDeadlines:
    """A :class:`DeadlineTimer` that never wakes anyone (an application without an agent)."""

    def arm(self, check_id: str, at: float) -> None:
        return None

    def disarm(self, check_id: str) -> None:
        return None


StatusSink = Callable[[CheckStatus], None]
"""Receives every changed live status (the status feed); must be cheap and never raise."""
