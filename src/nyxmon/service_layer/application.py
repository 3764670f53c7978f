"""The application: NyxMon's use cases behind one door, run on the dispatcher thread.

:meth:`Application.handle` runs a command or an event through the message bus; whatever the
handlers staged leaves for the store writer at :meth:`Application.end_of_batch` (the dispatcher
calls it after each round), as one transaction. While a write is in flight, new rows wait and
join the next one, so a slow disk yields bigger transactions instead of a growing queue of
small ones. A failed batch is put back and retried with backoff; past ``max_pending`` the
oldest results are dropped (counted, logged) so a database that is down for hours cannot
exhaust memory. Notifications and state rows are never dropped.

Everything here runs on one thread and never blocks: the writer reports back through the
callback it is given, which it runs on this same thread.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from nyxmon.domain.status import CheckStatus
from nyxmon.errors import (
    CheckNotFoundError,
    ConfigError,
    ConflictError,
    ServiceNotFoundError,
)
from nyxmon.service_layer.alerting import Alerting
from nyxmon.service_layer.dependencies import Dependencies, HandlerCounters
from nyxmon.service_layer.handlers import COMMAND_HANDLERS, EVENT_HANDLERS
from nyxmon.service_layer.messagebus import MessageBus
from nyxmon.service_layer.messages import AlertSettings, BatchCommitted, Message, WriteFailed
from nyxmon.service_layer.ports import (
    BatchWriter,
    DeadlineTimer,
    Deliveries,
    NoDeadlines,
    ProbeControl,
    StatusSink,
)
from nyxmon.service_layer.records.alerts import OutboxEntry
from nyxmon.service_layer.records.batches import WriteBatch, WriteReceipt
from nyxmon.service_layer.unit_of_work import UnitOfWork, WriteOp

__all__ = ["Application", "ApplicationStatistics"]

log = logging.getLogger(__name__)

_REFUSALS = (ConflictError, CheckNotFoundError, ServiceNotFoundError, ConfigError)


@dataclass(frozen=True, slots=True)
class ApplicationStatistics:
    """The write path and the handlers, as of now.

    ``staged`` rows wait for the writer, ``in_flight`` are being written; ``failing_since``
    is when the current run of failed writes began (None while writes succeed);
    ``writing_since`` when the batch in flight was handed to the writer (None: none is).
    """

    checks: int
    staged: int
    in_flight: int
    batches: int
    results_written: int
    results_dropped: int
    write_failures: int
    failing_since: float | None
    writing_since: float | None
    last_write_error: str
    last_batch_seconds: float
    max_batch_seconds: float
    handlers: HandlerCounters


class Application:
    """The message bus, the unit of work and the write path, bound to the given ports."""

    def __init__(
        self,
        *,
        writer: BatchWriter,
        deliveries: Deliveries,
        probes: ProbeControl,
        publish: StatusSink,
        settings: AlertSettings,
        deadlines: DeadlineTimer | None = None,
        clock: Callable[[], float] = time.time,
        max_pending: int = 200_000,
        retry_base: float = 0.5,
        retry_max: float = 30.0,
    ) -> None:
        self._writer = writer
        self._clock = clock
        self._max_pending = max_pending
        self._retry_base = retry_base
        self._retry_max = retry_max
        self.uow = UnitOfWork()
        self.deps = Dependencies(
            alerting=Alerting(settings, probes, clock=clock),
            probes=probes,
            deliveries=deliveries,
            publish=publish,
            deadlines=deadlines if deadlines is not None else NoDeadlines(),
        )
        self.bus = MessageBus(self.uow, self.deps, COMMAND_HANDLERS, EVENT_HANDLERS)
        self._in_flight: WriteBatch | None = None
        self._in_flight_since: float | None = None
        self._in_flight_acks: list[Callable[[], None]] = []
        self._backoff = 0.0
        self._retry_at = 0.0
        self._failing_since: float | None = None
        self._batches = self._results_written = self._dropped = 0
        self._last_seconds = self._max_seconds = 0.0

    # -- the door ---------------------------------------------------------------------------
    def handle(self, message: Message) -> Any:
        """Handle a command or event and what follows from it; the command's reply."""
        return self.bus.handle(message)

    def end_of_batch(self) -> None:
        """Hand what is staged to the writer: operations in order, rows as one batch (unless
        one is in flight or backing off after a failure)."""
        for op in self.uow.take_ops():
            self._writer.run(op, self._op_done(op))
        # The bound holds while a batch hangs in flight too (a database that stopped answering).
        dropped = self.uow.drop_oldest_results(self._max_pending)
        if dropped:
            self._dropped += dropped
            log.error("store writer: %d results dropped, the database is not keeping up", dropped)
        if self._in_flight is not None:
            return
        if self._retry_at and self._clock() < self._retry_at:
            return
        batch = self.uow.take_batch()
        if batch is not None:
            self._in_flight = batch
            self._in_flight_since = self._clock()
            self._in_flight_acks = self.uow.take_acks()
            self._writer.write(batch, self._written)

    # -- reads (dispatcher thread) ----------------------------------------------------------
    def statuses(self) -> Mapping[str, CheckStatus]:
        """A copy of every live check's status."""
        return MappingProxyType({cid: state.status for cid, state in self.deps.live.items()})

    @property
    def idle(self) -> bool:
        """Nothing staged and nothing being written."""
        return self._in_flight is None and not self.uow.staged

    def statistics(self) -> ApplicationStatistics:
        counters = self.deps.counters
        return ApplicationStatistics(
            checks=len(self.deps.live),
            staged=self.uow.staged,
            in_flight=0 if self._in_flight is None else len(self._in_flight),
            batches=self._batches,
            results_written=self._results_written,
            results_dropped=self._dropped,
            write_failures=counters.write_failures,
            failing_since=self._failing_since,
            writing_since=self._in_flight_since,
            last_write_error=counters.last_write_error,
            last_batch_seconds=self._last_seconds,
            max_batch_seconds=self._max_seconds,
            handlers=HandlerCounters(
                **{name: getattr(counters, name) for name in HandlerCounters.__slots__}
            ),
        )

    # -- the writer's answers (dispatcher thread) -------------------------------------------
    def _written(
        self, receipt: WriteReceipt | None, seconds: float, error: BaseException | None
    ) -> None:
        batch, self._in_flight = self._in_flight, None
        self._in_flight_since = None
        acks, self._in_flight_acks = self._in_flight_acks, []
        assert batch is not None
        if error is None:
            for ack in acks:
                ack()
            assert receipt is not None
            self._backoff = self._retry_at = 0.0
            self._failing_since = None
            self._batches += 1
            self._results_written += len(batch.results)
            self._last_seconds = seconds
            self._max_seconds = max(self._max_seconds, seconds)
            created = tuple(
                OutboxEntry.committed(row_id, row)
                for row_id, row in zip(receipt.outbox_ids, batch.outbox, strict=True)
                if row_id is not None
            )
            self.handle(BatchCommitted(len(batch.results), created, seconds))
            self.end_of_batch()  # whatever was staged meanwhile
            return
        if isinstance(error, CheckNotFoundError):
            kept = [r for r in batch.results if r.check_id != error.check_id]
            self._dropped += len(batch.results) - len(kept)
            log.warning("store writer: dropped results of deleted check %r", error.check_id)
            self.uow.requeue_acks(acks)
            self.uow.requeue(
                WriteBatch(
                    kept, batch.states, batch.transitions, batch.outbox, batch.outbox_updates
                )
            )
            self.end_of_batch()
            return
        self.uow.requeue(batch)
        self.uow.requeue_acks(acks)
        now = self._clock()
        if self._failing_since is None:
            self._failing_since = now
        self._backoff = min(self._retry_max, max(self._retry_base, self._backoff * 2))
        self._retry_at = now + self._backoff
        log.error(
            "store writer: writing a batch of %d rows failed (%s); retrying in %.1f s",
            len(batch),
            error,
            self._backoff,
        )
        self.handle(WriteFailed(f"writing a batch of {len(batch)} rows", str(error)))

    def _op_done(self, op: WriteOp) -> Callable[[Any, BaseException | None], None]:
        def done(value: Any, error: BaseException | None) -> None:
            if error is not None:
                if op.reply is not None:
                    op.reply.set_exception(error)
                if not isinstance(error, _REFUSALS):  # a refusal is an answer, not a failure
                    log.warning("store writer: %s failed: %s", op.what, error)
                    self.handle(WriteFailed(op.what, str(error)))
                return
            event = op.then(value)
            if event is not None:
                self.handle(event)  # the application follows before the caller hears back
            if op.reply is not None:
                op.reply.set_result(value)

        return done
