"""Recorder basics: direct use on an application's loop, wake-ups, snapshots, stop, bad input."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from nyxmon.metrics import (
    Counter,
    DuplicateMetricError,
    Gauge,
    Increment,
    MetricDefinitionError,
    MetricsRuntime,
    MetricsStateError,
    Recorder,
    RecorderState,
    SetGauge,
)
from nyxmon.metrics.metric import Handler, RouteKey

from .conftest import Boom, Exploding, SequenceLog, Tagged, loop_blocked

pytestmark = pytest.mark.anyio


def idle_loop_recorder(**kwargs: Any) -> tuple[Recorder, asyncio.AbstractEventLoop]:
    """A recorder on a loop that is not running: nothing is processed until we run it."""
    loop = asyncio.new_event_loop()
    return Recorder("idle", loop=loop, **kwargs), loop


def run_briefly(loop: asyncio.AbstractEventLoop) -> None:
    loop.run_until_complete(asyncio.sleep(0))


async def test_direct_recorder_on_the_applications_loop_counts_events() -> None:
    recorder = Recorder("direct").start()
    recorder.register_metric(Counter("jobs_total"))
    for _ in range(10):
        recorder.register_event(Increment("jobs_total"))
    snapshot = recorder.get_metric_snapshots()  # on the owning loop: answered in place
    assert snapshot.metric("jobs_total").value() == 10
    assert snapshot.processed == 10
    final = recorder.stop()
    assert final.state == "stopped"
    assert final.metric("jobs_total").value() == 10


async def test_direct_recorder_snapshot_from_another_thread_waits_for_the_loop() -> None:
    recorder = Recorder("direct").start()
    recorder.register_metric(Counter("jobs_total"))
    recorder.register_event(Increment("jobs_total", 3))
    result: list[float] = []
    done = asyncio.Event()
    loop = asyncio.get_running_loop()

    def read() -> None:
        result.append(recorder.get_metric_snapshots(5).metric("jobs_total").value())
        loop.call_soon_threadsafe(done.set)

    threading.Thread(target=read).start()
    await done.wait()  # our loop keeps turning meanwhile, so the recorder can answer
    assert result == [3]
    await recorder.stop_async()


def test_recorder_without_a_running_loop_says_how_to_get_one() -> None:
    with pytest.raises(MetricsStateError, match="needs a running asyncio loop"):
        Recorder("orphan")


def test_events_registered_before_start_wait_and_are_processed_after_start() -> None:
    recorder, loop = idle_loop_recorder()
    recorder.register_metric(Counter("early_total"))
    for _ in range(5):
        recorder.register_event(Increment("early_total"))
    run_briefly(loop)
    assert recorder._processed == 0  # not started: nothing processed yet
    recorder.start()
    run_briefly(loop)
    assert recorder._processed == 5
    assert loop.run_until_complete(recorder.stop_async()).processed == 5
    loop.close()


def test_a_burst_of_events_costs_one_wake_up_of_the_loop() -> None:
    recorder, loop = idle_loop_recorder()
    recorder.register_metric(Counter("burst_total"))
    recorder.start()
    run_briefly(loop)  # the start-up drain
    wakes = 0
    wake = recorder._wake

    def counting_wake() -> None:
        nonlocal wakes
        wakes += 1
        wake()

    recorder._wake = counting_wake  # type: ignore[assignment]
    for _ in range(1000):
        recorder.register_event(Increment("burst_total"))
    assert wakes == 1
    run_briefly(loop)
    for _ in range(10):
        recorder.register_event(Increment("burst_total"))
    assert wakes == 2  # the drain cleared the flag, so the next event woke it again
    run_briefly(loop)
    assert recorder._processed == 1010
    loop.close()


def test_a_drain_stops_at_batch_size_and_reschedules_itself() -> None:
    recorder, loop = idle_loop_recorder(batch_size=100)
    recorder.register_metric(Counter("batched_total"))
    for _ in range(250):
        recorder.register_event(Increment("batched_total"))
    recorder.start()
    recorder._drain()  # what the loop runs on a wake-up: one batch, then it reschedules
    assert recorder._processed == 100
    for _ in range(5):
        run_briefly(loop)
    assert recorder._processed == 250
    loop.close()


def test_events_nobody_listens_to_are_counted_as_unrouted(
    metrics_runtime: MetricsRuntime,
) -> None:
    recorder = metrics_runtime.create_recorder("unrouted")
    recorder.register_metric(Counter("known_total"))
    recorder.register_event(Increment("unknown_total"))
    recorder.register_event(Tagged("p", 1))
    recorder.register_event(Increment("known_total"))
    snapshot = recorder.get_metric_snapshots()
    assert (snapshot.processed, snapshot.unrouted) == (3, 2)
    assert snapshot.metric("known_total").value() == 1


def test_a_metric_registered_from_another_thread_sees_every_later_event(
    metrics_runtime: MetricsRuntime,
) -> None:
    recorder = metrics_runtime.create_recorder("late-metric")
    log = SequenceLog()

    def register_then_emit() -> None:
        recorder.register_metric(log)
        for seq in range(100):
            recorder.register_event(Tagged("t", seq))

    thread = threading.Thread(target=register_then_emit)
    thread.start()
    thread.join()
    snapshot = recorder.get_metric_snapshots()
    assert snapshot.unrouted == 0
    assert log.seen == {"t": list(range(100))}


def test_two_metrics_on_one_event_both_see_it(metrics_runtime: MetricsRuntime) -> None:
    recorder = metrics_runtime.create_recorder("shared")
    recorder.register_metric(Gauge("in_flight", mode="add"))
    recorder.register_metric(Counter("in_flight_changes_total", source="in_flight_total"))
    recorder.register_metric(Gauge("in_flight_copy", source="in_flight"))
    for delta in (1, 1, -1, 1):
        recorder.register_event(SetGauge("in_flight", delta))
    snapshot = recorder.get_metric_snapshots()
    assert snapshot.metric("in_flight").value() == 2
    assert snapshot.metric("in_flight_copy").value() == 1  # mode "set": the last value


def test_snapshot_reflects_every_event_registered_before_the_call(
    metrics_runtime: MetricsRuntime,
) -> None:
    recorder = metrics_runtime.create_recorder("read-your-writes")
    recorder.register_metric(Counter("n_total"))
    for expected in range(1, 200):
        recorder.register_event(Increment("n_total"))
        if expected % 37 == 0:
            assert recorder.get_metric_snapshots().metric("n_total").value() == expected


def test_snapshot_falls_back_to_the_last_one_marked_stale_when_the_loop_is_blocked(
    metrics_runtime: MetricsRuntime,
) -> None:
    recorder = metrics_runtime.create_recorder("blocked")
    recorder.register_metric(Counter("n_total"))
    recorder.register_event(Increment("n_total"))
    assert recorder.get_metric_snapshots().metric("n_total").value() == 1
    with loop_blocked(metrics_runtime.runtime):
        recorder.register_event(Increment("n_total"))
        stale = recorder.get_metric_snapshots(timeout=0.05)
    assert stale.stale
    assert "did not answer within 0.05 s" in str(stale.stale_reason)
    assert stale.metric("n_total").value() == 1  # the last published state
    fresh = recorder.get_metric_snapshots()
    assert not fresh.stale
    assert fresh.metric("n_total").value() == 2


def test_stopped_recorder_keeps_answering_with_its_final_state_and_counts_late_events(
    metrics_runtime: MetricsRuntime,
) -> None:
    recorder = metrics_runtime.create_recorder("stopping")
    recorder.register_metric(Counter("n_total"))
    for _ in range(50):
        recorder.register_event(Increment("n_total"))
    final = recorder.stop()
    assert recorder.state is RecorderState.STOPPED
    assert final.metric("n_total").value() == 50
    for _ in range(7):
        recorder.register_event(Increment("n_total"))
    later = recorder.get_metric_snapshots(timeout=0)
    assert later.metric("n_total").value() == 50
    assert later.dropped["stopped"] == 7
    assert not later.stale
    with pytest.raises(MetricsStateError, match="takes no new metrics"):
        recorder.register_metric(Counter("late_total"))


def test_recorder_whose_loop_closed_counts_what_it_never_processed() -> None:
    recorder, loop = idle_loop_recorder()
    recorder.register_metric(Counter("n_total"))
    recorder.start()
    run_briefly(loop)
    loop.close()
    for _ in range(3):  # the first one finds the loop closed; all three are counted
        recorder.register_event(Increment("n_total"))
    snapshot = recorder.get_metric_snapshots(timeout=1)
    assert snapshot.state == "stopped"
    assert snapshot.dropped["stopped"] == 3
    assert snapshot.processed == 0


def test_stopping_a_recorder_that_never_started_counts_its_queue_as_dropped() -> None:
    recorder, loop = idle_loop_recorder()
    for _ in range(4):
        recorder.register_event(Increment("n_total"))
    snapshot = recorder.stop()
    assert snapshot.dropped["stopped"] == 4
    loop.close()


def test_duplicate_metric_names_are_refused(metrics_runtime: MetricsRuntime) -> None:
    recorder = metrics_runtime.create_recorder("dupes")
    recorder.register_metric(Counter("n_total"))
    with pytest.raises(DuplicateMetricError, match="'dupes' already has a metric named 'n_total'"):
        recorder.register_metric(Gauge("n_total"))


class BadRoute(Exploding):
    def __init__(self, route: object) -> None:
        super().__init__("bad_route")
        self.route = route

    def routes(self) -> dict[RouteKey, Handler]:
        return {self.route: self.handle}  # type: ignore[dict-item]


@pytest.mark.parametrize(
    ("route", "message"),
    [
        pytest.param(Increment, "route Increment events by name", id="generic-type-alone"),
        pytest.param((Boom, "x"), r"must be \(Increment\|SetGauge\|Observe, name\)", id="pair"),
        pytest.param("Boom", "is not an event type", id="string"),
    ],
)
def test_metrics_with_unroutable_keys_are_refused(
    metrics_runtime: MetricsRuntime, route: object, message: str
) -> None:
    recorder = metrics_runtime.create_recorder("routes")
    with pytest.raises(MetricDefinitionError, match=message):
        recorder.register_metric(BadRoute(route))


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        pytest.param({"queue_max_size": 0}, ValueError, "must be >= 1", id="queue-0"),
        pytest.param({"queue_max_size": True}, TypeError, "must be an int", id="queue-bool"),
        pytest.param({"batch_size": 0}, ValueError, "must be >= 1", id="batch-0"),
        pytest.param(
            {"overflow_policy": "drop"},
            ValueError,
            "overflow_policy must be one of 'drop_newest', 'drop_oldest', 'raise', got 'drop'",
            id="policy",
        ),
    ],
)
def test_bad_recorder_settings_are_refused_with_the_setting_named(
    kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    loop = asyncio.new_event_loop()
    try:
        with pytest.raises(error, match=message):
            Recorder("bad", loop=loop, **kwargs)
    finally:
        loop.close()


def test_bad_ids_and_timeouts_are_refused(metrics_runtime: MetricsRuntime) -> None:
    with pytest.raises(ValueError, match="recorder_id must be a non-empty string"):
        metrics_runtime.create_recorder("  ")
    recorder = metrics_runtime.create_recorder("ok")
    with pytest.raises(ValueError, match="timeout must be a number of seconds >= 0"):
        recorder.get_metric_snapshots(timeout=-1)
    with pytest.raises(TypeError, match="takes a Metric"):
        recorder.register_metric("n_total")  # type: ignore[type-var]
