"""``linger``: a steady trickle of events costs one loop wake-up per linger, and loses nothing."""

from __future__ import annotations

import time

import pytest

from nyxmon.metrics import Counter, Increment, MetricsRuntime, Sample


def total(runtime: MetricsRuntime, recorder_id: str) -> float:
    snapshot = runtime.get_recorder(recorder_id).get_metric_snapshots(timeout=5)
    sample = snapshot.metrics["hits_total"].samples[0]
    assert isinstance(sample, Sample)
    return sample.value


def test_a_wake_up_soon_after_a_drain_waits_for_the_linger(
    metrics_runtime: MetricsRuntime,
) -> None:
    recorder = metrics_runtime.create_recorder("lingering", linger=1.0)
    recorder.register_metric(Counter("hits_total"))
    recorder.register_event(Increment("hits_total"))
    deadline = time.monotonic() + 5
    while recorder.processed < 1 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert recorder.processed == 1, "the first event after a quiet spell drains at once"
    recorder.register_event(Increment("hits_total"))
    recorder.register_event(Increment("hits_total"))
    time.sleep(0.05)
    assert recorder.processed == 1, "events right after a drain wait for the linger"
    deadline = time.monotonic() + 5
    while recorder.processed < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert recorder.processed == 3, "the deferred drain comes and takes them all"


def test_a_snapshot_never_misses_an_event_a_lingering_drain_holds(
    metrics_runtime: MetricsRuntime,
) -> None:
    recorder = metrics_runtime.create_recorder("snap", linger=1.0)
    recorder.register_metric(Counter("hits_total"))
    for _ in range(5):
        recorder.register_event(Increment("hits_total"))
    assert total(metrics_runtime, "snap") == 5


def test_many_producers_lose_nothing_with_linger(metrics_runtime: MetricsRuntime) -> None:
    import threading

    # Room for every event even if the drain falls behind (a loaded CI machine): this is
    # about linger losing nothing, not about overflow (test_overflow.py).
    recorder = metrics_runtime.create_recorder("busy", linger=0.01, queue_max_size=100_000)
    recorder.register_metric(Counter("hits_total"))

    def produce() -> None:
        for _ in range(20_000):
            recorder.register_event(Increment("hits_total"))

    threads = [threading.Thread(target=produce) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert total(metrics_runtime, "busy") == 80_000
    assert not any(recorder.get_metric_snapshots(timeout=5).dropped.values())


@pytest.mark.parametrize("linger", [-0.1, 1.5])
def test_linger_outside_zero_to_one_second_is_refused(
    metrics_runtime: MetricsRuntime, linger: float
) -> None:
    with pytest.raises(ValueError, match="linger must be in"):
        metrics_runtime.create_recorder(f"bad{linger}", linger=linger)
