"""Runtime, Dispatcher and OffloadPool report into a recorder; the runtime stays standalone."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import pytest

from nyxmon.metrics import HistogramSample, MetricsRuntime, Recorder, register_runtime_metrics
from nyxmon.runtime import (
    Dispatcher,
    OffloadPool,
    OffloadTimeoutError,
    Runtime,
    Session,
    SessionEvent,
    ShutdownStatus,
)


@pytest.fixture
def recorder(metrics_runtime: MetricsRuntime) -> Recorder:
    recorder = metrics_runtime.create_recorder("runtime")
    register_runtime_metrics(recorder)
    return recorder


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.005)


def histogram(recorder: Recorder, name: str, labels: tuple[str, ...]) -> HistogramSample:
    sample = recorder.get_metric_snapshots().metric(name).sample(labels)
    assert isinstance(sample, HistogramSample)
    return sample


async def doomed() -> None:
    raise ValueError("this task fails")


def test_runtime_reports_every_lag_sample_and_every_failure(recorder: Recorder) -> None:
    runtime = Runtime("asyncio", name="probed", lag_interval=0.002, recorder=recorder).start()
    with pytest.raises(ValueError, match="this task fails"):
        runtime.spawn(doomed, name="doomed").wait(5)
    runtime.run_sync_soon(lambda: 1 / 0)
    wait_for(lambda: runtime.statistics().callback_failures == 1, "the callback to fail")
    wait_for(lambda: runtime.statistics().loop_lag.count >= 3, "three lag samples")
    runtime.shutdown()
    lag = histogram(recorder, "runtime_loop_lag_seconds", ("probed",))
    assert lag.count == runtime.statistics().loop_lag.count
    failures = recorder.get_metric_snapshots().metric("runtime_task_failures_total")
    assert failures.value(("probed", "task")) == 1
    assert failures.value(("probed", "callback")) == 1


class Quiet(Session):
    def on_start(self) -> None:
        self.state = "open"

    def on_event(self, event: SessionEvent) -> None:
        pass


def test_dispatcher_reports_per_batch_and_the_figures_add_up(recorder: Recorder) -> None:
    dispatcher = Dispatcher("bus", recorder=recorder).start()
    dispatcher.register(Quiet("s"))
    for i in range(5000):
        dispatcher.post(SessionEvent("s", "tick", i))
    dispatcher.submit(lambda: None).wait(5)
    dispatcher.stop()  # joins the thread: every batch has been reported
    stats = dispatcher.statistics()
    snapshot = recorder.get_metric_snapshots()
    assert snapshot.metric("dispatcher_events_total").value(("bus",)) == stats.dispatched
    assert snapshot.metric("dispatcher_batches_total").value(("bus",)) == stats.batches
    assert stats.batches < stats.dispatched  # batched: fewer reports than events
    sizes = histogram(recorder, "dispatcher_batch_size", ("bus",))
    assert (sizes.count, sizes.sum) == (stats.batches, stats.dispatched)
    max_lag = histogram(recorder, "dispatcher_batch_max_lag_seconds", ("bus",))
    assert max_lag.max == pytest.approx(stats.lag.max)
    assert snapshot.metric("dispatcher_lag_seconds_total").value(("bus",)) == pytest.approx(
        stats.lag.mean * stats.lag.count
    )


def test_offload_pool_reports_each_operation_with_its_outcome(recorder: Recorder) -> None:
    pool = OffloadPool("io", workers=1, queue_size=10, recorder=recorder)
    for _ in range(3):
        assert pool.submit(lambda: 1).wait(5) == 1
    with pytest.raises(ZeroDivisionError):
        pool.submit(lambda: 1 / 0).wait(5)
    with pytest.raises(OffloadTimeoutError):
        pool.submit(time.sleep, 0.05, timeout=0.01).wait(5)  # runs past its deadline: late
    gate = threading.Event()
    blocker = pool.submit(gate.wait, 5)
    expired = pool.submit(lambda: 2, timeout=0.01)  # nobody waits; it expires in the queue
    wait_for(lambda: time.monotonic() >= (expired.deadline or 0), "the deadline to pass")
    gate.set()
    assert blocker.wait(5) is True
    assert pool.shutdown(timeout=5) is ShutdownStatus.CLEAN
    operations = recorder.get_metric_snapshots().metric("offload_operations_total")
    outcomes = {s.labels: s.value for s in operations.samples}
    assert outcomes == {
        ("io", "ok"): 4,
        ("io", "error"): 1,
        ("io", "late"): 1,
        ("io", "expired"): 1,
    }
    assert histogram(recorder, "offload_queue_wait_seconds", ("io",)).count == 7
    run = histogram(recorder, "offload_run_seconds", ("io",))
    assert run.count == 7
    assert run.max >= 0.05  # the late one slept that long


class Refusing:
    def register_event(self, event: object) -> None:
        raise RuntimeError("no room")


def test_a_sink_that_raises_never_breaks_the_runtime_and_is_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="nyxmon.runtime.observe"):
        runtime = Runtime("asyncio", lag_interval=0.002, recorder=Refusing()).start()
        wait_for(lambda: runtime.statistics().loop_lag.count >= 5, "five lag samples")
        assert runtime.call(lambda: 42) == 42
        runtime.shutdown()
    complaints = [r for r in caplog.records if r.name == "nyxmon.runtime.observe"]
    assert len(complaints) == 1
    assert "refused a runtime event" in complaints[0].getMessage()


def test_the_runtime_package_imports_nothing_else_of_nyxmon() -> None:
    code = (
        "import sys, nyxmon.runtime, nyxmon.runtime.observe; "
        "print(sorted(m for m in sys.modules if m.startswith('nyxmon') "
        "and not m.startswith('nyxmon.runtime')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['nyxmon']"
