"""Instruments for the events :mod:`nyxmon.runtime` emits (loop lag, dispatch, offload).

Pass a recorder to ``Runtime(recorder=...)``, ``Dispatcher(recorder=...)`` or
``OffloadPool(recorder=...)`` and call :func:`register_runtime_metrics` on it once.
"""

from __future__ import annotations

from nyxmon.runtime.observe import DispatchBatch, LoopLagSample, OffloadOp, TaskFailed

from .histogram import Histogram
from .instruments import Counter, Gauge, Rate
from .metric import Metric
from .recorder import Recorder

__all__ = ["LAG_BUCKETS", "register_runtime_metrics", "runtime_metrics"]

#: Seconds; scheduling lag worth telling apart runs from well under a millisecond to seconds.
LAG_BUCKETS = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096)
_WORK_BUCKETS = (0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def runtime_metrics() -> list[Metric]:
    """Fresh instruments for the runtime's events (see the module docstring for names)."""
    return [
        Histogram(
            "runtime_loop_lag_seconds",
            "how late the loop ran its lag probe's timer",
            on=LoopLagSample,
            value="lag",
            labels=("runtime",),
            buckets=LAG_BUCKETS,
        ),
        Gauge(
            "runtime_loop_lag_last_seconds",
            "the latest loop-lag probe reading",
            on=LoopLagSample,
            value="lag",
            labels=("runtime",),
        ),
        Counter(
            "runtime_task_failures_total",
            "spawned tasks and run_sync_soon callbacks that failed",
            on=TaskFailed,
            labels=("runtime", "kind"),
        ),
        Counter(
            "dispatcher_events_total",
            "events dispatched",
            on=DispatchBatch,
            value="size",
            labels=("dispatcher",),
        ),
        Counter(
            "dispatcher_batches_total",
            "batches dispatched",
            on=DispatchBatch,
            labels=("dispatcher",),
        ),
        Rate(
            "dispatcher_events_per_second",
            "events dispatched per second (EWMA, tau 60 s)",
            on=DispatchBatch,
            value="size",
            labels=("dispatcher",),
        ),
        Counter(
            "dispatcher_lag_seconds_total",
            "summed dispatch lag; over events_total: mean lag",
            on=DispatchBatch,
            value="lag_sum",
            labels=("dispatcher",),
        ),
        Histogram(
            "dispatcher_batch_max_lag_seconds",
            "the largest dispatch lag of each batch",
            on=DispatchBatch,
            value="max_lag",
            labels=("dispatcher",),
            buckets=LAG_BUCKETS,
        ),
        Histogram(
            "dispatcher_batch_size",
            "events per batch",
            on=DispatchBatch,
            value="size",
            labels=("dispatcher",),
            buckets=_BATCH_BUCKETS,
        ),
        Gauge(
            "dispatcher_queue_depth",
            "events waiting when the latest batch began",
            on=DispatchBatch,
            value="queue_depth",
            labels=("dispatcher",),
        ),
        Counter(
            "offload_operations_total",
            "operations a worker took, by outcome",
            on=OffloadOp,
            labels=("pool", "outcome"),
        ),
        Histogram(
            "offload_queue_wait_seconds",
            "time from submit until a worker took it",
            on=OffloadOp,
            value="queue_wait",
            labels=("pool",),
            buckets=_WORK_BUCKETS,
        ),
        Histogram(
            "offload_run_seconds",
            "time an operation ran in a worker",
            on=OffloadOp,
            value="run_time",
            labels=("pool",),
            buckets=_WORK_BUCKETS,
        ),
        Gauge(
            "offload_active",
            "operations running after the latest one finished",
            on=OffloadOp,
            value="active",
            labels=("pool",),
        ),
        Gauge(
            "offload_queued",
            "operations waiting after the latest one finished",
            on=OffloadOp,
            value="queued",
            labels=("pool",),
        ),
    ]


def register_runtime_metrics(recorder: Recorder) -> list[Metric]:
    """Register :func:`runtime_metrics` on ``recorder`` and return them."""
    return [recorder.register_metric(metric) for metric in runtime_metrics()]
