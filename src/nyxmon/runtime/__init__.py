"""The concurrency runtime: sync code and async I/O working together.

Knows nothing about monitoring and imports nothing else of NyxMon:

- :class:`Runtime`: a thread it owns running one event loop; ``call``/``submit``/``spawn``.
- :class:`Dispatcher`: one thread dispatching posted events to state-machine sessions.
- :class:`OffloadPool`: bounded worker threads for blocking calls, with back-pressure.
"""

from ._bridge import thread_safe_waker
from ._oneshot import OneShot
from ._work import RuntimeFuture, SpawnedTask
from .dispatcher import Completion, Dispatcher, DispatcherStatistics, FullPolicy
from .errors import (
    ConcurrencyError,
    DeadlockError,
    DiscardedError,
    DispatcherCrashedError,
    OffloadTimeoutError,
    QueueFullError,
    RuntimeClosedError,
)
from .loop_thread import Backend, Portal, Runtime, RuntimeStatistics
from .offload import OffloadHandle, OffloadPool, OffloadStatistics, OnFull
from .session import Session, SessionEvent, TransitionError
from .status import ShutdownStatus
from .window import LagWindow, WindowStats

__all__ = [
    "Backend",
    "Completion",
    "ConcurrencyError",
    "DeadlockError",
    "DiscardedError",
    "Dispatcher",
    "DispatcherCrashedError",
    "DispatcherStatistics",
    "FullPolicy",
    "LagWindow",
    "OffloadHandle",
    "OffloadPool",
    "OffloadStatistics",
    "OffloadTimeoutError",
    "OnFull",
    "OneShot",
    "Portal",
    "QueueFullError",
    "Runtime",
    "RuntimeClosedError",
    "RuntimeFuture",
    "RuntimeStatistics",
    "Session",
    "SessionEvent",
    "ShutdownStatus",
    "SpawnedTask",
    "TransitionError",
    "WindowStats",
    "thread_safe_waker",
]
