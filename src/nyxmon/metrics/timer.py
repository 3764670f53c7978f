"""Timer: measure a block or a function and register the duration as an ``Observe`` event."""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, ParamSpec, TypeVar

from .events import Observe

__all__ = ["Timer"]

P = ParamSpec("P")
R = TypeVar("R")


class Timer:
    """``with recorder.timer("x"):`` or ``@recorder.timer("x")`` (sync or async functions).

    Emits ``Observe(metric, seconds, labels)`` whether the body returns or raises, so a
    histogram named ``metric`` gets every duration. As a decorator it is safe from any number of
    threads and tasks; as a context manager it nests, but one instance should not be shared by
    concurrent threads (each ``recorder.timer()`` call makes a new one).
    """

    __slots__ = ("_clock", "_emit", "_starts", "labels", "metric")

    def __init__(
        self,
        emit: Callable[[object], None],
        metric: str,
        labels: tuple[str, ...] = (),
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        if not isinstance(labels, tuple):
            raise TypeError(f"timer {metric!r}: labels must be a tuple, got {labels!r}")
        self._emit = emit
        self.metric = metric
        self.labels = labels
        self._clock = clock
        self._starts: list[float] = []

    def __enter__(self) -> Timer:
        self._starts.append(self._clock())
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        elapsed = self._clock() - self._starts.pop()
        self._emit(Observe(self.metric, elapsed, self.labels))

    def __call__(self, fn: Callable[P, R]) -> Callable[P, R]:
        clock, emit, metric, labels = self._clock, self._emit, self.metric, self.labels
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def timed_async(*args: Any, **kwargs: Any) -> Any:
                start = clock()
                try:
                    return await fn(*args, **kwargs)
                finally:
                    emit(Observe(metric, clock() - start, labels))

            return timed_async  # type: ignore[return-value]

        @functools.wraps(fn)
        def timed(*args: P.args, **kwargs: P.kwargs) -> R:
            start = clock()
            try:
                return fn(*args, **kwargs)
            finally:
                emit(Observe(metric, clock() - start, labels))

        return timed
