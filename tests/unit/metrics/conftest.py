"""Fixtures for the metrics tests: a started MetricsRuntime and a way to pause its loop."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

import pytest

from nyxmon.metrics import Metric, MetricSnapshot, MetricsRuntime, Sample
from nyxmon.metrics.metric import Handler, RouteKey
from nyxmon.runtime import Runtime, ShutdownStatus


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def metrics_runtime() -> Iterator[MetricsRuntime]:
    runtime = MetricsRuntime("test").start()
    yield runtime
    assert runtime.shutdown(timeout=5) is ShutdownStatus.CLEAN


@contextlib.contextmanager
def loop_blocked(runtime: Runtime) -> Iterator[threading.Event]:
    """Hold ``runtime``'s loop thread inside a callback until the block exits (or the returned
    event is set): recorders on it then accept events but process none."""
    entered, release = threading.Event(), threading.Event()

    def block() -> None:
        entered.set()
        release.wait(20)

    runtime.run_sync_soon(block)
    assert entered.wait(5), "the loop never ran the blocking callback"
    try:
        yield release
    finally:
        release.set()


class Tagged(NamedTuple):
    """An event that says who sent it and its place in that sender's sequence."""

    producer: str
    seq: int


class SequenceLog(Metric):
    """Records every producer's sequence numbers in arrival order."""

    kind = "gauge"

    def __init__(self, name: str = "sequences") -> None:
        super().__init__(name)
        self.seen: dict[str, list[int]] = {}

    def routes(self) -> Mapping[RouteKey, Handler]:
        return {Tagged: self.handle}

    def handle(self, event: Tagged) -> None:
        self.seen.setdefault(event.producer, []).append(event.seq)

    def snapshot(self, now: float) -> MetricSnapshot:
        samples = tuple(Sample((p,), float(len(s))) for p, s in sorted(self.seen.items()))
        return self._snapshot(samples)


class Boom(NamedTuple):
    """An event whose only purpose is to make a handler fail."""

    value: int = 0


class Exploding(Metric):
    """Raises on every Boom event (and, optionally, when asked for a snapshot)."""

    kind = "counter"

    def __init__(self, name: str = "exploding", *, in_snapshot: bool = False) -> None:
        super().__init__(name)
        self.in_snapshot = in_snapshot

    def routes(self) -> Mapping[RouteKey, Handler]:
        return {Boom: self.handle}

    def handle(self, event: Any) -> None:
        raise RuntimeError(f"boom {event.value}")

    def snapshot(self, now: float) -> MetricSnapshot:
        if self.in_snapshot:
            raise RuntimeError("no snapshot for you")
        return self._snapshot(())
