"""MetricsRuntime: lifecycle, the recorder registry, shutdown with pending events, async twins."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

import anyio
import pytest
from anyio import wait_all_tasks_blocked

from nyxmon.metrics import (
    Counter,
    Increment,
    Metric,
    MetricSnapshot,
    MetricsOverflowError,
    MetricsRuntime,
    MetricsRuntimeState,
    MetricsStateError,
    RecorderExistsError,
    RecorderNotFoundError,
)
from nyxmon.metrics.metric import Handler, RouteKey
from nyxmon.runtime import DeadlockError, ShutdownStatus

from .conftest import Tagged, loop_blocked


def test_lifecycle_goes_new_running_closed_and_does_not_restart() -> None:
    runtime = MetricsRuntime("life")
    assert runtime.state is MetricsRuntimeState.NEW
    with pytest.raises(MetricsStateError, match="'life' is new; start\\(\\) it first"):
        runtime.create_recorder("early")
    assert runtime.start() is runtime
    assert runtime.start() is runtime  # idempotent while running
    assert runtime.state is MetricsRuntimeState.RUNNING
    assert runtime.shutdown() is ShutdownStatus.CLEAN
    assert runtime.state is MetricsRuntimeState.CLOSED
    assert runtime.shutdown() is ShutdownStatus.CLEAN  # again: the first status
    with pytest.raises(MetricsStateError, match="is closed; it starts only once"):
        runtime.start()
    with pytest.raises(MetricsStateError, match="'life' is closed"):
        runtime.create_recorder("late")


def test_a_runtime_never_started_shuts_down_clean() -> None:
    runtime = MetricsRuntime("never")
    assert runtime.shutdown() is ShutdownStatus.CLEAN
    assert runtime.state is MetricsRuntimeState.CLOSED


def test_context_manager_starts_and_shuts_down() -> None:
    with MetricsRuntime("ctx") as runtime:
        assert runtime.state is MetricsRuntimeState.RUNNING
    assert runtime.state is MetricsRuntimeState.CLOSED


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"namespace": ""}, "namespace must be a non-empty string", id="namespace"),
        pytest.param({"default_queue_max_size": 0}, "must be >= 1", id="queue"),
        pytest.param({"default_overflow_policy": "block"}, "overflow_policy must be", id="policy"),
        pytest.param({"backend": "trio"}, "recorders run on asyncio", id="trio"),
    ],
)
def test_bad_runtime_settings_are_refused(kwargs: dict[str, Any], message: str) -> None:
    kwargs.setdefault("namespace", "bad")
    with pytest.raises(ValueError, match=message):
        MetricsRuntime(**kwargs)


def test_recorders_are_created_found_listed_stopped_and_removed(
    metrics_runtime: MetricsRuntime,
) -> None:
    first = metrics_runtime.create_recorder("conn-1", entity_id="10.0.0.1")
    second = metrics_runtime.create_recorder("conn-2")
    assert (first.entity_id, second.entity_id) == ("10.0.0.1", "conn-2")
    assert first.namespace == "test"
    assert metrics_runtime.list_recorder_ids() == ("conn-1", "conn-2")
    assert metrics_runtime.get_recorder("conn-1") is first
    assert metrics_runtime.try_get_recorder("nope") is None
    with pytest.raises(RecorderExistsError, match="'conn-1' exists already"):
        metrics_runtime.create_recorder("conn-1")
    with pytest.raises(RecorderNotFoundError, match="no recorder with id 'nope'; known: conn-1"):
        metrics_runtime.get_recorder("nope")
    with pytest.raises(KeyError):
        metrics_runtime.stop_recorder("nope")
    final = metrics_runtime.stop_recorder("conn-1")
    assert final.state == "stopped"
    assert metrics_runtime.list_recorder_ids() == ("conn-1", "conn-2")
    assert metrics_runtime.stop_and_remove_recorder("conn-2") is second
    assert second.state == "stopped"
    assert metrics_runtime.list_recorder_ids() == ("conn-1",)
    assert second.get_metric_snapshots().state == "stopped"  # still answers after removal


def test_runtime_defaults_apply_to_recorders_unless_overridden() -> None:
    with MetricsRuntime(
        "defaults", default_queue_max_size=3, default_overflow_policy="raise"
    ) as rt:
        strict = rt.create_recorder("strict")
        lenient = rt.create_recorder("lenient", queue_max_size=10, overflow_policy="drop_newest")
        with loop_blocked(rt.runtime):
            for i in range(3):
                strict.register_event(Tagged("p", i))
            with pytest.raises(MetricsOverflowError):
                strict.register_event(Tagged("p", 3))
            for i in range(12):
                lenient.register_event(Tagged("p", i))
        assert lenient.get_metric_snapshots().dropped["drop_newest"] == 2


def test_shutdown_processes_events_still_queued() -> None:
    runtime = MetricsRuntime("drain").start()
    recorder = runtime.create_recorder("r")
    recorder.register_metric(Counter("n_total"))
    with loop_blocked(runtime.runtime) as release:
        for _ in range(1000):
            recorder.register_event(Increment("n_total"))
        threading.Timer(0.05, release.set).start()  # the loop frees up while shutdown waits
        assert runtime.shutdown(timeout=5) is ShutdownStatus.CLEAN
    final = recorder.get_metric_snapshots()
    assert final.metric("n_total").value() == 1000
    assert (final.processed, final.dropped_total, final.state) == (1000, 0, "stopped")


class Slow(Metric):
    """Takes five milliseconds per event, so a short shutdown cannot process them all."""

    kind = "counter"

    def __init__(self) -> None:
        super().__init__("slow")

    def routes(self) -> Mapping[RouteKey, Handler]:
        return {Tagged: lambda event: time.sleep(0.005)}

    def snapshot(self, now: float) -> MetricSnapshot:
        return self._snapshot(())


def test_shutdown_out_of_time_counts_what_it_could_not_process() -> None:
    runtime = MetricsRuntime("hurry").start()
    recorder = runtime.create_recorder("r")
    recorder.register_metric(Slow())
    with loop_blocked(runtime.runtime):
        for i in range(2000):  # ten seconds of work
            recorder.register_event(Tagged("p", i))
    # Far less than the work, far more than the stop needs even on a loaded machine.
    assert runtime.shutdown(timeout=1.5) is ShutdownStatus.CLEAN
    final = recorder.get_metric_snapshots()
    assert final.processed + final.dropped["stopped"] == 2000
    assert final.state == "stopped"
    assert runtime.state is MetricsRuntimeState.CLOSED


def test_late_events_after_shutdown_are_counted_not_lost() -> None:
    runtime = MetricsRuntime("late").start()
    recorder = runtime.create_recorder("r")
    runtime.shutdown()
    for i in range(5):
        recorder.register_event(Tagged("p", i))
    assert recorder.get_metric_snapshots().dropped["stopped"] == 5


def test_sync_methods_called_on_the_metrics_loop_itself_do_not_deadlock(
    metrics_runtime: MetricsRuntime,
) -> None:
    def on_the_loop() -> tuple[str, int]:
        recorder = metrics_runtime.create_recorder("inner")
        recorder.register_metric(Counter("n_total"))
        recorder.register_event(Increment("n_total"))
        snapshots = metrics_runtime.snapshots()
        return recorder.recorder_id, int(snapshots["inner"].metric("n_total").value())

    assert metrics_runtime.runtime.call(on_the_loop) == ("inner", 1)
    with pytest.raises(DeadlockError, match="own loop thread"):
        metrics_runtime.runtime.call(metrics_runtime.shutdown)


def test_snapshots_of_all_recorders_fall_back_to_stale_ones_when_the_loop_is_blocked(
    metrics_runtime: MetricsRuntime,
) -> None:
    for name in ("a", "b"):
        metrics_runtime.create_recorder(name).register_metric(Counter("n_total"))
    assert not any(s.stale for s in metrics_runtime.snapshots().values())
    with loop_blocked(metrics_runtime.runtime):
        stale = metrics_runtime.snapshots(timeout=0.05)
    assert sorted(stale) == ["a", "b"]
    assert all(
        s.stale and "did not run the snapshots" in str(s.stale_reason) for s in stale.values()
    )


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.mark.anyio
async def test_async_twins_serve_callers_on_another_loop(metrics_runtime: MetricsRuntime) -> None:
    recorder = await metrics_runtime.create_recorder_async("async")
    recorder.register_metric(Counter("n_total"))
    for _ in range(10):
        recorder.register_event(Increment("n_total"))
    snapshot = await recorder.snapshots_async()
    assert snapshot.metric("n_total").value() == 10
    everything = await metrics_runtime.snapshots_async()
    assert everything["async"].processed == 10
    final = await metrics_runtime.stop_recorder_async("async")
    assert final.state == "stopped"
    assert await metrics_runtime.stop_and_remove_recorder_async("async") is recorder


@pytest.mark.anyio
async def test_waiting_for_a_snapshot_leaves_the_callers_loop_free(
    metrics_runtime: MetricsRuntime,
) -> None:
    # The metrics loop stays blocked until a task on *our* loop releases it; if waiting for
    # the snapshot blocked our loop, that task could not run and the snapshot would be stale.
    recorder = metrics_runtime.create_recorder("patient")
    recorder.register_metric(Counter("n_total"))
    results = []
    with loop_blocked(metrics_runtime.runtime) as release:
        recorder.register_event(Increment("n_total"))

        async def read() -> None:
            results.append(await recorder.snapshots_async(timeout=10))

        async with anyio.create_task_group() as tg:
            tg.start_soon(read)
            await wait_all_tasks_blocked()
            release.set()
    assert not results[0].stale
    assert results[0].metric("n_total").value() == 1


@pytest.mark.anyio
async def test_shutdown_async_does_not_block_the_callers_loop() -> None:
    runtime = MetricsRuntime("async-shutdown").start()
    await runtime.create_recorder_async("r")
    assert await runtime.shutdown_async() is ShutdownStatus.CLEAN
    assert runtime.state is MetricsRuntimeState.CLOSED
