"""Errors of the concurrency runtime.

The runtime is standalone (it imports nothing else of NyxMon), so it has its own root::

    ConcurrencyError
    ├── DeadlockError            a blocking wait was called from the thread that must serve it
    ├── RuntimeClosedError       the runtime / dispatcher / pool is stopped or stopping
    ├── QueueFullError           a bounded queue is full (policy: raise, or waiting timed out)
    ├── OffloadTimeoutError      an offloaded operation passed its deadline and was abandoned
    ├── DispatcherCrashedError   the dispatch loop itself died; every waiter gets this
    └── DiscardedError           work discarded by a stop; also a concurrent.futures.CancelledError

"We closed it" (:class:`RuntimeClosedError`) is kept apart from "it broke"
(:class:`DispatcherCrashedError`), as anyio keeps ``ClosedResourceError`` apart from
``BrokenResourceError``.
"""

from __future__ import annotations

import concurrent.futures

__all__ = [
    "ConcurrencyError",
    "DeadlockError",
    "DiscardedError",
    "DispatcherCrashedError",
    "OffloadTimeoutError",
    "QueueFullError",
    "RuntimeClosedError",
]


class ConcurrencyError(Exception):
    """Base of every error the runtime raises on purpose."""


class DeadlockError(ConcurrencyError):
    """A blocking wait was called from the very thread that would have to serve it."""


class RuntimeClosedError(ConcurrencyError):
    """The runtime, dispatcher or pool is stopping or stopped and accepts no new work."""


class QueueFullError(ConcurrencyError):
    """A bounded queue is full and its policy is to raise (or waiting for room timed out)."""


class OffloadTimeoutError(ConcurrencyError, TimeoutError):
    """An offloaded operation passed its deadline; its result, if it ever comes, is dropped."""


class DispatcherCrashedError(ConcurrencyError):
    """The dispatch loop itself died; every waiter is failed with this, the cause chained."""


class DiscardedError(ConcurrencyError, concurrent.futures.CancelledError):
    """Work was discarded by a stop before it finished.

    It is also a ``concurrent.futures.CancelledError`` so code that treats cancellation generically
    handles it, while staying an ``Exception`` (asyncio's ``CancelledError`` is a
    ``BaseException`` and would escape ordinary ``except Exception`` blocks in sync code).
    """
