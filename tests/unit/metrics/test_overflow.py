"""Overflow policies: exactly what each says, and every refused event counted."""

from __future__ import annotations

import threading

import pytest

from nyxmon.metrics import MetricsOverflowError, MetricsRuntime, OverflowPolicy
from nyxmon.runtime import QueueFullError

from .conftest import SequenceLog, Tagged, loop_blocked


@pytest.mark.parametrize(
    ("policy", "kept"),
    [
        pytest.param("drop_newest", list(range(10)), id="drop_newest-keeps-the-first"),
        pytest.param("drop_oldest", list(range(90, 100)), id="drop_oldest-keeps-the-last"),
    ],
)
def test_a_full_queue_drops_by_policy_and_counts_every_drop(
    metrics_runtime: MetricsRuntime, policy: str, kept: list[int]
) -> None:
    recorder = metrics_runtime.create_recorder("full", queue_max_size=10, overflow_policy=policy)
    log = recorder.register_metric(SequenceLog())
    with loop_blocked(metrics_runtime.runtime):
        for seq in range(100):
            recorder.register_event(Tagged("p", seq))
        during = recorder.get_metric_snapshots(timeout=0)  # the loop cannot answer: stale
    assert during.stale
    assert (during.pending, during.dropped[policy]) == (10, 90)
    after = recorder.get_metric_snapshots()
    assert log.seen == {"p": kept}
    assert after.dropped[policy] == 90 == 100 - after.processed
    assert after.dropped_total == 90


def test_raise_policy_refuses_the_event_in_the_producer_and_counts_it(
    metrics_runtime: MetricsRuntime,
) -> None:
    recorder = metrics_runtime.create_recorder(
        "strict", queue_max_size=10, overflow_policy=OverflowPolicy.RAISE
    )
    log = recorder.register_metric(SequenceLog())
    with loop_blocked(metrics_runtime.runtime):
        for seq in range(10):
            recorder.register_event(Tagged("p", seq))
        for seq in range(10, 100):
            with pytest.raises(MetricsOverflowError, match="'strict' has 10 events waiting"):
                recorder.register_event(Tagged("p", seq))
    after = recorder.get_metric_snapshots()
    assert issubclass(MetricsOverflowError, QueueFullError)
    assert log.seen == {"p": list(range(10))}
    assert after.dropped["raise"] == 90 == 100 - after.processed


@pytest.mark.parametrize("policy", [p.value for p in OverflowPolicy])
def test_eight_threads_on_a_small_queue_lose_nothing_uncounted(
    metrics_runtime: MetricsRuntime, policy: str
) -> None:
    recorder = metrics_runtime.create_recorder("small", queue_max_size=64, overflow_policy=policy)
    log = recorder.register_metric(SequenceLog())
    per_thread, threads = 5000, 8
    go = threading.Barrier(threads)
    raised = [0] * threads

    def produce(index: int) -> None:
        go.wait()
        for seq in range(per_thread):
            try:
                recorder.register_event(Tagged(f"t{index}", seq))
            except MetricsOverflowError:
                raised[index] += 1

    workers = [threading.Thread(target=produce, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    snapshot = recorder.get_metric_snapshots()
    sent = per_thread * threads
    assert snapshot.processed + snapshot.dropped_total == sent
    assert snapshot.dropped_total == snapshot.dropped[policy]
    assert sum(len(s) for s in log.seen.values()) == snapshot.processed
    if policy == "raise":
        assert sum(raised) == snapshot.dropped["raise"]
    for sequence in log.seen.values():  # drops leave gaps, never reorder
        assert sequence == sorted(sequence)
