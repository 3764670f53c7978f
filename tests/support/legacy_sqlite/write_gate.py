"""The lock around the writer connection, giving the agent's writes precedence.

A plain lock is unfair: the cleaner, releasing it between two deletes and taking it again at
once, can keep the agent's writer waiting through many chunks (measured: 200+ ms). Here urgent
holders (units of work: results, API writes) go first; background work (cleaner chunks, rollup
writes) waits while any urgent holder waits, so an urgent writer waits at most for the one
background transaction already running. Re-entrant for its owner thread.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["WriteGate"]


class WriteGate:
    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._owner: int | None = None
        self._depth = 0
        self._urgent_waiting = 0

    def acquire(self, *, urgent: bool = True) -> None:
        me = threading.get_ident()
        with self._cond:
            if self._owner == me:
                self._depth += 1
                return
            if urgent:
                self._urgent_waiting += 1
            try:
                while self._owner is not None or (not urgent and self._urgent_waiting):
                    self._cond.wait()
            finally:
                if urgent:
                    self._urgent_waiting -= 1
            self._owner = me
            self._depth = 1

    def release(self) -> None:
        with self._cond:
            if self._owner != threading.get_ident():
                raise RuntimeError("WriteGate released by a thread that does not hold it")
            self._depth -= 1
            if self._depth == 0:
                self._owner = None
                self._cond.notify_all()

    @contextmanager
    def held(self, *, urgent: bool = True) -> Iterator[None]:
        self.acquire(urgent=urgent)
        try:
            yield
        finally:
            self.release()

    def __enter__(self) -> WriteGate:
        self.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()
