"""The store writer: the one thread that writes agent-owned rows (DESIGN.md's store writer).

It implements the application's :class:`~nyxmon.service_layer.ports.BatchWriter` port: a
batch is one transaction, an operation is whatever the operation does (a config reconcile, a
check added through the API), and maintenance steps (rollups, retention) run between them, all
in submission order on one thread. Each outcome is handed back on the dispatcher thread
(``post``), so the application never locks and this thread never touches live state.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from nyxmon.runtime import OffloadPool, ShutdownStatus
from nyxmon.runtime.observe import EventSink
from nyxmon.service_layer.ports import BatchDone, OpDone
from nyxmon.service_layer.records.batches import WriteBatch, WriteReceipt
from nyxmon.service_layer.storage import Store
from nyxmon.service_layer.unit_of_work import WriteOp

__all__ = ["StoreWriter"]

log = logging.getLogger(__name__)

T = TypeVar("T")
Post = Callable[..., Any]
"""Runs ``fn(*args)`` on the dispatcher thread (``dispatcher.submit``)."""


class StoreWriter:
    """Serialises every write to ``store`` through an OffloadPool of one thread."""

    def __init__(
        self,
        store: Store,
        post: Post,
        *,
        on_batch_seconds: Callable[[float], None] | None = None,
        recorder: EventSink | None = None,
    ) -> None:
        self.store = store
        self._post = post
        self._pool = OffloadPool("store-writer", workers=1, queue_size=10_000, recorder=recorder)
        self._on_batch_seconds = on_batch_seconds

    # -- the BatchWriter port (dispatcher thread) ------------------------------------------
    def write(self, batch: WriteBatch, done: BatchDone) -> None:
        try:
            self._pool.submit(self._write_on_writer, batch, done, on_full="raise")
        except Exception as exc:  # pool full or closed: the application keeps the batch
            done(None, 0.0, exc)

    def run(self, op: WriteOp, done: OpDone) -> None:
        try:
            self._pool.submit(self._op_on_writer, op, done, on_full="raise")
        except Exception as exc:
            done(None, exc)

    # -- any thread ------------------------------------------------------------------------
    async def run_maintenance(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a maintenance step (rollups, retention) on the writer thread, between batches."""
        return await self._pool.run(fn, *args)

    def close(self, timeout: float = 10.0) -> ShutdownStatus:
        """Let queued writes finish (up to ``timeout``), then stop the writer thread."""
        return self._pool.shutdown(timeout, drain=True)

    # -- writer thread ---------------------------------------------------------------------
    def _write_on_writer(self, batch: WriteBatch, done: BatchDone) -> None:
        started = time.perf_counter()
        error: BaseException | None = None
        receipt: WriteReceipt | None = None
        try:
            receipt = self.store.write_batch(batch)
        except Exception as exc:
            error = exc
        seconds = time.perf_counter() - started
        if error is None and self._on_batch_seconds is not None:
            self._on_batch_seconds(seconds)
        self._post(done, receipt, seconds, error)

    def _op_on_writer(self, op: WriteOp, done: OpDone) -> None:
        value: Any = None
        error: BaseException | None = None
        try:
            value = op.run(self.store)
        except Exception as exc:
            error = exc
        self._post(done, value, error)
