"""The unit of work: what handlers change, staged for the next store write.

cosmicpython's unit of work opens a database transaction. Handlers run on the dispatcher
thread, which must never block on I/O, so this one stages instead: ``with uow:`` marks where
the handler began, ``commit()`` keeps what it staged, and leaving the block without committing
(or by an exception) drops exactly that. Staged rows wait here until the write path hands them
to the store writer as one :class:`~nyxmon.service_layer.records.batches.WriteBatch`; the
results of a dispatcher round therefore cost one transaction.

Writes that are not rows of a batch (a check added through the API, the config reconciled)
are staged as :class:`WriteOp` operations: they run on the writer thread in order, and their
outcome comes back to the dispatcher as the op's follow-up event and reply.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from nyxmon.domain.locations import LocationView
from nyxmon.domain.model import Result
from nyxmon.runtime import OneShot
from nyxmon.service_layer.messages import Event
from nyxmon.service_layer.records.alerts import OutboxRow, OutboxUpdate, StateRow, Transition
from nyxmon.service_layer.records.batches import WriteBatch
from nyxmon.service_layer.storage import Store

__all__ = ["UnitOfWork", "WriteOp"]


@dataclass(frozen=True, slots=True)
class WriteOp:
    """A write for the store writer: ``run(store)`` there, ``then(value)`` back on the
    dispatcher (an event to handle, or None), and ``reply`` resolved for whoever waits."""

    what: str
    run: Callable[[Store], Any]
    then: Callable[[Any], Event | None]
    reply: OneShot[Any] | None = None


class UnitOfWork:
    """Rows and operations staged by handlers; owned by the dispatcher thread."""

    __slots__ = (
        "_committed",
        "_events",
        "_mark",
        "acks",
        "ops",
        "outbox",
        "results",
        "states",
        "transitions",
        "updates",
        "views",
    )

    def __init__(self) -> None:
        self.results: list[Result] = []
        self.states: list[StateRow] = []
        self.transitions: list[Transition] = []
        self.outbox: list[OutboxRow] = []
        self.updates: list[OutboxUpdate] = []
        self.views: list[LocationView] = []
        self.ops: list[WriteOp] = []
        # Called once the rows staged before them are committed (a ping answered as durable).
        self.acks: list[Callable[[], None]] = []
        self._events: list[Event] = []
        self._mark = (0, 0, 0, 0, 0, 0, 0, 0)
        self._committed = True

    # -- a handler's block ---------------------------------------------------------------------
    def __enter__(self) -> UnitOfWork:
        self._mark = (
            len(self.results),
            len(self.states),
            len(self.transitions),
            len(self.outbox),
            len(self.updates),
            len(self.ops),
            len(self.acks),
            len(self.views),
        )
        self._committed = False
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._committed:
            self.rollback()

    def commit(self) -> None:
        self._committed = True

    def rollback(self) -> None:
        """Drop what was staged since the block began (never what earlier handlers kept)."""
        results, states, transitions, outbox, updates, ops, acks, views = self._mark
        del self.results[results:]
        del self.states[states:]
        del self.transitions[transitions:]
        del self.outbox[outbox:]
        del self.updates[updates:]
        del self.views[views:]
        for op in self.ops[ops:]:
            if op.reply is not None:
                op.reply.set_exception(RuntimeError(f"{op.what} was rolled back"))
        del self.ops[ops:]
        del self.acks[acks:]
        self._committed = True

    # -- staging (handlers append to the lists directly on the hot path) -----------------------
    def stage_op(self, op: WriteOp) -> None:
        self.ops.append(op)

    def emit(self, event: Event) -> None:
        """An event for the bus to handle once the current handler returns."""
        self._events.append(event)

    def collect_new_events(self) -> Iterator[Event]:
        while self._events:
            yield self._events.pop(0)

    # -- the write path's side -----------------------------------------------------------------
    def take_batch(self) -> WriteBatch | None:
        """Everything staged as rows, as one batch (the newest snapshot per check), or None."""
        if not (
            self.results
            or self.states
            or self.transitions
            or self.outbox
            or self.updates
            or self.views
        ):
            return None
        states = {row.check_id: row for row in self.states}  # the newest snapshot wins
        batch = WriteBatch(
            self.results,
            tuple(states.values()),
            self.transitions,
            self.outbox,
            self.updates,
            self.views,
        )
        self.results, self.states, self.transitions = [], [], []
        self.outbox, self.updates, self.views = [], [], []
        return batch

    def take_acks(self) -> list[Callable[[], None]]:
        """The acknowledgements of the rows just taken as a batch (:meth:`take_batch`)."""
        acks, self.acks = self.acks, []
        return acks

    def requeue_acks(self, acks: list[Callable[[], None]]) -> None:
        """Acknowledgements of a batch that did not commit, back in front."""
        self.acks[:0] = acks

    def take_ops(self) -> list[WriteOp]:
        ops, self.ops = self.ops, []
        return ops

    def requeue(self, batch: WriteBatch) -> None:
        """Put a batch that did not commit back in front of what was staged since."""
        self.results[:0] = batch.results
        self.states[:0] = batch.states  # later rows of the same check still win
        self.transitions[:0] = batch.transitions
        self.outbox[:0] = batch.outbox
        self.updates[:0] = batch.outbox_updates
        self.views[:0] = batch.views  # later views of the same location still win

    def drop_oldest_results(self, keep: int) -> int:
        """Keep at most ``keep`` staged results, dropping the oldest; returns how many went."""
        excess = len(self.results) - keep
        if excess <= 0:
            return 0
        del self.results[:excess]
        return excess

    @property
    def staged(self) -> int:
        """Rows and operations waiting for the writer."""
        return (
            len(self.results)
            + len(self.states)
            + len(self.transitions)
            + len(self.outbox)
            + len(self.updates)
            + len(self.views)
            + len(self.ops)
        )
