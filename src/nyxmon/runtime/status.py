"""How a stop ended, shared by Runtime, Dispatcher and OffloadPool (seed 003's statuses)."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["ShutdownStatus"]


class ShutdownStatus(StrEnum):
    """The outcome of ``shutdown()`` / ``stop()``.

    ``clean``: everything finished, nothing was discarded.
    ``drained_with_discards``: a draining stop ran out of time; what remained was cancelled.
    ``cancelled``: a non-draining stop cancelled work that was still in flight.
    ``timeout``: the thread did not finish within the timeout (something blocked it); it was
    abandoned as a daemon thread and every waiter was failed.
    """

    CLEAN = "clean"
    DRAINED_WITH_DISCARDS = "drained_with_discards"
    CANCELLED = "cancelled"
    TIMEOUT = "timeout"
