"""The message bus's unit of work: stages writes on the dispatcher thread, never blocks it.

cosmicpython's unit of work opens a database transaction. The dispatcher thread must not do
blocking I/O, so this one stages instead: results join the dispatcher batch's single write, and
other writes become operations the store writer runs in order. ``commit()`` hands them over;
leaving the block without committing drops them. Outcomes come back later as events, and a
caller that needs to know (the API) holds a reply that resolves then.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol

from nyxmon.domain.model import Check, Result
from nyxmon.runtime import OneShot
from nyxmon.service_layer.messages import Event
from nyxmon.service_layer.records.alerts import OutboxRow, OutboxUpdate, StateRow, Transition
from nyxmon.service_layer.storage import Store

__all__ = ["AgentUnitOfWork", "StagedOp", "WriterPort"]


@dataclass(frozen=True, slots=True)
class StagedOp:
    """A write for the store writer: ``run(store)`` there; ``then(value)`` back here."""

    what: str
    run: Callable[[Store], Any]
    then: Callable[[Any], Event | None]
    reply: OneShot[Any] | None = None


class WriterPort(Protocol):
    """What the unit of work needs from the store writer."""

    def add_results(self, results: list[Result]) -> None: ...

    def add_alert_rows(
        self,
        states: Sequence[StateRow],
        transitions: Sequence[Transition],
        outbox: Sequence[OutboxRow],
        updates: Sequence[OutboxUpdate],
    ) -> None: ...

    def run_op(self, op: StagedOp) -> None: ...


class AgentUnitOfWork:
    """Live catalog of checks plus staged writes; owned by the dispatcher thread."""

    def __init__(self, writer: WriterPort) -> None:
        self.checks: dict[str, Check] = {}
        self._writer = writer
        self._results: list[Result] = []
        self._states: list[StateRow] = []
        self._transitions: list[Transition] = []
        self._outbox: list[OutboxRow] = []
        self._updates: list[OutboxUpdate] = []
        self._ops: list[StagedOp] = []
        self._events: list[Event] = []
        self._committed = False

    def __enter__(self) -> AgentUnitOfWork:
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

    def stage_result(self, result: Result) -> None:
        self._results.append(result)

    def stage_alert_rows(
        self,
        states: Sequence[StateRow] = (),
        transitions: Sequence[Transition] = (),
        outbox: Sequence[OutboxRow] = (),
        updates: Sequence[OutboxUpdate] = (),
    ) -> None:
        self._states.extend(states)
        self._transitions.extend(transitions)
        self._outbox.extend(outbox)
        self._updates.extend(updates)

    def stage(self, op: StagedOp) -> None:
        self._ops.append(op)

    def emit(self, event: Event) -> None:
        self._events.append(event)

    def commit(self) -> None:
        if self._results:
            results, self._results = self._results, []
            self._writer.add_results(results)
        if self._states or self._transitions or self._outbox or self._updates:
            self._writer.add_alert_rows(
                self._states, self._transitions, self._outbox, self._updates
            )
            self._states, self._transitions, self._outbox, self._updates = [], [], [], []
        ops, self._ops = self._ops, []
        for op in ops:
            self._writer.run_op(op)
        self._committed = True

    def rollback(self) -> None:
        self._results.clear()
        self._states.clear()
        self._transitions.clear()
        self._outbox.clear()
        self._updates.clear()
        for op in self._ops:
            if op.reply is not None:
                op.reply.set_exception(RuntimeError(f"{op.what} was rolled back"))
        self._ops.clear()

    def collect_new_events(self) -> Iterator[Event]:
        while self._events:
            yield self._events.pop(0)
