"""The store writer: the one thread that writes to the database (DESIGN.md's store writer).

Results staged during a dispatcher batch are committed together in one transaction when the
batch ends; while a write is in flight, new results accumulate and go in the next one, so a slow
disk yields bigger transactions instead of a growing queue of small ones. Other writes (config
reconcile, API changes, rollups and retention) run on the same thread in submission order.

Every outcome is posted back to the dispatcher thread; nothing here blocks it. A failed write
keeps its results and is retried with backoff; results of a check deleted meanwhile are dropped
(counted); past ``max_pending`` the oldest results are dropped (counted, logged) so a database
that is down for hours cannot exhaust memory.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from nyxmon.domain.model import Result
from nyxmon.errors import CheckNotFoundError
from nyxmon.runtime import OffloadPool, ShutdownStatus
from nyxmon.runtime.observe import EventSink
from nyxmon.service_layer.messages import Event, ResultsCommitted, WriteFailed
from nyxmon.service_layer.records.alerts import OutboxRow, OutboxUpdate, StateRow, Transition
from nyxmon.service_layer.records.batches import WriteBatch, WriteReceipt
from nyxmon.service_layer.storage import Store
from nyxmon.service_layer.unit_of_work import StagedOp

__all__ = ["StoreWriter", "WriterStatistics"]

log = logging.getLogger(__name__)

T = TypeVar("T")
Post = Callable[[Callable[[], Any]], Any]
"""Runs a callable on the dispatcher thread (``dispatcher.submit``)."""


@dataclass(frozen=True, slots=True)
class WriterStatistics:
    pending: int
    in_flight: int
    batches: int
    results_written: int
    write_failures: int
    dropped: int
    last_batch_seconds: float
    max_batch_seconds: float


def _ignore(_: object) -> None:
    pass


class StoreWriter:
    """Batches results and serialises every write through an OffloadPool of one thread."""

    def __init__(
        self,
        store: Store,
        post: Post,
        *,
        max_pending: int = 200_000,
        retry_base: float = 0.5,
        retry_max: float = 30.0,
        on_batch_seconds: Callable[[float], None] | None = None,
        recorder: EventSink | None = None,
    ) -> None:
        self.store = store
        self._post = post
        self._pool = OffloadPool("store-writer", workers=1, queue_size=10_000, recorder=recorder)
        self._max_pending = max_pending
        self._retry_base = retry_base
        self._retry_max = retry_max
        self._on_batch_seconds = on_batch_seconds
        self.on_event: Callable[[Event], None] = lambda event: None
        # Called on the dispatcher thread with the outbox rows a commit created (and their ids):
        # only committed notifications may be delivered.
        self.on_outbox_committed: Callable[[list[tuple[int, OutboxRow]]], None] = _ignore
        # Dispatcher-thread state:
        self._pending: list[Result] = []
        self._states: dict[str, StateRow] = {}  # the newest snapshot per check is enough
        self._transitions: list[Transition] = []
        self._outbox: list[OutboxRow] = []
        self._updates: list[OutboxUpdate] = []
        self._in_flight = 0
        self._backoff = 0.0
        self._retry_timer: threading.Timer | None = None
        self._batches = self._written = self._failures = self._dropped = 0
        self._last_seconds = self._max_seconds = 0.0

    # -- dispatcher thread ---------------------------------------------------------------------
    def add_results(self, results: list[Result]) -> None:
        self._pending.extend(results)
        excess = len(self._pending) - self._max_pending
        if excess > 0:
            del self._pending[:excess]
            self._dropped += excess
            log.error("store writer: %d results dropped, the database is not keeping up", excess)

    def add_alert_rows(
        self,
        states: Sequence[StateRow],
        transitions: Sequence[Transition],
        outbox: Sequence[OutboxRow],
        updates: Sequence[OutboxUpdate],
    ) -> None:
        for state in states:
            self._states[state.check_id] = state
        self._transitions.extend(transitions)
        self._outbox.extend(outbox)
        self._updates.extend(updates)

    def flush(self) -> None:
        """Start writing what is pending, unless a write is in flight or backing off."""
        if self._in_flight or self._retry_timer is not None or not self._has_pending():
            return
        batch = WriteBatch(
            results=self._pending,
            states=tuple(self._states.values()),
            transitions=self._transitions,
            outbox=self._outbox,
            outbox_updates=self._updates,
        )
        self._pending, self._states, self._transitions = [], {}, []
        self._outbox, self._updates = [], []
        self._in_flight = max(1, len(batch))
        try:
            self._pool.submit(self._write_on_writer, batch, on_full="raise")
        except Exception as exc:  # pool full or closed: keep everything for the next flush
            self._requeue(batch)
            self._in_flight = 0
            log.warning("store writer: could not queue a batch: %s", exc)

    def _has_pending(self) -> bool:
        return bool(
            self._pending or self._states or self._transitions or self._outbox or self._updates
        )

    def _requeue(self, batch: WriteBatch) -> None:
        """Put a batch that did not commit back in front of what came since."""
        self._pending[:0] = batch.results
        for state in batch.states:
            self._states.setdefault(state.check_id, state)  # a newer one wins
        self._transitions[:0] = batch.transitions
        self._outbox[:0] = batch.outbox
        self._updates[:0] = batch.outbox_updates

    def run_op(self, op: StagedOp) -> None:
        try:
            self._pool.submit(self._op_on_writer, op, on_full="raise")
        except Exception as exc:  # pool full or closed: fail it loudly, never block here
            if op.reply is not None:
                op.reply.set_exception(exc)
            self.on_event(WriteFailed(op.what, str(exc)))

    @property
    def idle(self) -> bool:
        return not self._has_pending() and not self._in_flight

    def statistics(self) -> WriterStatistics:
        return WriterStatistics(
            pending=len(self._pending),
            in_flight=self._in_flight,
            batches=self._batches,
            results_written=self._written,
            write_failures=self._failures,
            dropped=self._dropped,
            last_batch_seconds=self._last_seconds,
            max_batch_seconds=self._max_seconds,
        )

    def _on_written(
        self,
        batch: WriteBatch,
        receipt: WriteReceipt | None,
        seconds: float,
        error: BaseException | None,
    ) -> None:
        self._in_flight = 0
        if error is None:
            assert receipt is not None
            self._backoff = 0.0
            self._batches += 1
            self._written += len(batch.results)
            self._last_seconds = seconds
            self._max_seconds = max(self._max_seconds, seconds)
            if self._on_batch_seconds is not None:
                self._on_batch_seconds(seconds)
            created = [
                (row_id, row)
                for row_id, row in zip(receipt.outbox_ids, batch.outbox, strict=True)
                if row_id is not None
            ]
            if created:
                self.on_outbox_committed(created)
            self.on_event(ResultsCommitted(len(batch.results)))
            self.flush()
            return
        self._failures += 1
        if isinstance(error, CheckNotFoundError):
            kept = [r for r in batch.results if r.check_id != error.check_id]
            self._dropped += len(batch.results) - len(kept)
            log.warning("store writer: dropped results of deleted check %r", error.check_id)
            self._requeue(replace(batch, results=kept))
            self.flush()
            return
        self._requeue(batch)
        self._backoff = min(self._retry_max, max(self._retry_base, self._backoff * 2))
        log.error(
            "store writer: writing a batch of %d rows failed (%s); retrying in %.1f s",
            len(batch),
            error,
            self._backoff,
        )
        self.on_event(WriteFailed(f"writing a batch of {len(batch)} rows", str(error)))
        timer = threading.Timer(self._backoff, self._post, args=(self._retry,))
        timer.daemon = True
        self._retry_timer = timer
        timer.start()

    def _retry(self) -> None:
        self._retry_timer = None
        self.flush()

    def _op_done(self, op: StagedOp, value: Any, error: BaseException | None) -> None:
        if error is not None:
            log.warning("store writer: %s failed: %s", op.what, error)
            if op.reply is not None:
                op.reply.set_exception(error)
            self.on_event(WriteFailed(op.what, str(error)))
            return
        event = op.then(value)
        if op.reply is not None:
            op.reply.set_result(value)
        if event is not None:
            self.on_event(event)

    # -- writer thread ------------------------------------------------------------------------
    def _write_on_writer(self, batch: WriteBatch) -> None:
        started = time.perf_counter()
        error: BaseException | None = None
        receipt: WriteReceipt | None = None
        try:
            receipt = self.store.write_batch(batch)
        except Exception as exc:
            error = exc
        seconds = time.perf_counter() - started
        self._post(lambda: self._on_written(batch, receipt, seconds, error))

    def _op_on_writer(self, op: StagedOp) -> None:
        value: Any = None
        error: BaseException | None = None
        try:
            value = op.run(self.store)
        except Exception as exc:
            error = exc
        self._post(lambda: self._op_done(op, value, error))

    # -- any thread ---------------------------------------------------------------------------
    async def run_maintenance(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a maintenance step (rollups, retention) on the writer thread, between batches."""
        return await self._pool.run(fn, *args)

    def close(self, timeout: float = 10.0) -> ShutdownStatus:
        """Let queued writes finish (up to ``timeout``), then stop the writer thread."""
        if self._retry_timer is not None:
            self._retry_timer.cancel()
        return self._pool.shutdown(timeout, drain=True)
