"""Many producers: threads and coroutines on another loop, all events in per-producer order."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from nyxmon.metrics import Counter, Increment, MetricsRuntime

from .conftest import SequenceLog, Tagged

pytestmark = pytest.mark.anyio

PER_PRODUCER = 20_000


def test_eight_threads_and_four_coroutines_on_another_loop_deliver_every_event_in_order(
    metrics_runtime: MetricsRuntime,
) -> None:
    recorder = metrics_runtime.create_recorder("many", queue_max_size=12 * PER_PRODUCER)
    log = recorder.register_metric(SequenceLog())
    go = threading.Barrier(9)  # 8 threads + the thread running the other loop

    def thread_producer(name: str) -> None:
        go.wait()
        for seq in range(PER_PRODUCER):
            recorder.register_event(Tagged(name, seq))

    async def coroutine_producer(name: str) -> None:
        for seq in range(PER_PRODUCER):
            recorder.register_event(Tagged(name, seq))  # no await needed on the fast path
            if seq % 500 == 0:
                await asyncio.sleep(0)  # interleave with the other coroutines

    async def other_loop() -> None:
        await asyncio.gather(*(coroutine_producer(f"coro{i}") for i in range(4)))

    def loop_thread() -> None:
        go.wait()
        asyncio.run(other_loop())

    workers = [threading.Thread(target=thread_producer, args=(f"thread{i}",)) for i in range(8)]
    workers.append(threading.Thread(target=loop_thread))
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    snapshot = recorder.get_metric_snapshots(timeout=30)
    assert snapshot.dropped_total == 0
    assert snapshot.processed == 12 * PER_PRODUCER
    assert sorted(log.seen) == sorted(
        [f"thread{i}" for i in range(8)] + [f"coro{i}" for i in range(4)]
    )
    for producer, sequence in log.seen.items():
        assert sequence == list(range(PER_PRODUCER)), f"{producer} arrived out of order"


async def test_producers_on_the_recorders_own_loop_are_served_too(
    metrics_runtime: MetricsRuntime,
) -> None:
    recorder = metrics_runtime.create_recorder("self-fed")
    recorder.register_metric(Counter("n_total"))

    def emit_from_the_metrics_loop() -> None:
        for _ in range(100):
            recorder.register_event(Increment("n_total"))

    await metrics_runtime.runtime.submit(emit_from_the_metrics_loop)
    snapshot = await recorder.snapshots_async()
    assert snapshot.metric("n_total").value() == 100


@pytest.fixture
def frequent_thread_switches() -> Iterator[None]:
    """Switch threads every microsecond so races that need a mid-drain switch show up."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


@pytest.mark.usefixtures("frequent_thread_switches")
def test_wake_ups_alone_drain_every_event_without_a_snapshot_asking(
    metrics_runtime: MetricsRuntime,
) -> None:
    # A lost wake-up would leave events queued until something else flushed them; snapshots
    # flush, so this test only watches the counters while producers start and stop in bursts.
    recorder = metrics_runtime.create_recorder("wakes", queue_max_size=1_000_000)
    recorder.register_metric(Counter("n_total"))
    sent = 0
    for burst in range(50):
        size = 1 + burst * 37 % 500
        workers = [
            threading.Thread(
                target=lambda n=size: [
                    recorder.register_event(Increment("n_total")) for _ in range(n)
                ]
            )
            for _ in range(4)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        sent += 4 * size
        deadline = time.monotonic() + 10
        while recorder.processed < sent and time.monotonic() < deadline:
            time.sleep(0.0005)
        assert (recorder.processed, recorder.pending) == (sent, 0), f"stuck in burst {burst}"
