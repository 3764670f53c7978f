"""Metrics: production code emits events with one cheap call; a runtime-owned loop counts them.

Seed 002's MVX Metrics, rebuilt on :mod:`nyxmon.runtime`::

    runtime = MetricsRuntime("nyxmon").start()
    recorder = runtime.create_recorder("http")
    recorder.register_metric(Counter("requests_total", label_names=("method",)))
    recorder.register_event(Increment("requests_total", labels=("GET",)))   # any thread
    snapshot = recorder.get_metric_snapshots(timeout=1.0)                    # any thread
    registry.register(MetricsCollector(runtime))                             # /metrics
    runtime.shutdown()

- :class:`MetricsRuntime`: the thread and loop; creates, finds and stops recorders.
- :class:`Recorder`: ``register_event`` (O(1), lock-free, coalesced wake-ups), overflow
  policies, ``register_metric``, snapshots with timeouts; usable directly on your own loop.
- Instruments: :class:`Counter`, :class:`Gauge`, :class:`Histogram` (buckets + quantiles with
  1 % relative error), :class:`Rate` (EWMA events/s), :class:`Timer`; label cardinality limits.
- Exposition: :class:`MetricsCollector` for ``prometheus_client``, :func:`json_snapshot`.
- :func:`register_runtime_metrics`: instruments for what Runtime, Dispatcher and OffloadPool emit.
"""

from typing import TYPE_CHECKING, Any

from .errors import (
    DuplicateMetricError,
    MetricDefinitionError,
    MetricsError,
    MetricsOverflowError,
    MetricsStateError,
    RecorderExistsError,
    RecorderNotFoundError,
)
from .events import Increment, Observe, SetGauge
from .exposition import json_snapshot, prometheus_name
from .histogram import DEFAULT_BUCKETS, DEFAULT_QUANTILES, Histogram
from .instruments import DEFAULT_MAX_SERIES, Counter, Gauge, Instrument, Rate
from .metric import OTHER, Metric
from .policies import OverflowPolicy, RecorderState
from .quantiles import LogSketch
from .recorder import DEFAULT_BATCH_SIZE, DEFAULT_QUEUE_MAX_SIZE, Recorder
from .runtime import MetricsRuntime, MetricsRuntimeState
from .runtime_metrics import register_runtime_metrics, runtime_metrics
from .snapshots import HistogramSample, MetricSnapshot, RecorderSnapshot, Sample
from .timer import Timer

if TYPE_CHECKING:
    from .prometheus import MetricsCollector, families

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_BUCKETS",
    "DEFAULT_MAX_SERIES",
    "DEFAULT_QUANTILES",
    "DEFAULT_QUEUE_MAX_SIZE",
    "OTHER",
    "Counter",
    "DuplicateMetricError",
    "Gauge",
    "Histogram",
    "HistogramSample",
    "Increment",
    "Instrument",
    "LogSketch",
    "Metric",
    "MetricDefinitionError",
    "MetricSnapshot",
    "MetricsCollector",
    "MetricsError",
    "MetricsOverflowError",
    "MetricsRuntime",
    "MetricsRuntimeState",
    "MetricsStateError",
    "Observe",
    "OverflowPolicy",
    "Rate",
    "Recorder",
    "RecorderExistsError",
    "RecorderNotFoundError",
    "RecorderSnapshot",
    "RecorderState",
    "Sample",
    "SetGauge",
    "Timer",
    "families",
    "json_snapshot",
    "prometheus_name",
    "register_runtime_metrics",
    "runtime_metrics",
]


def __getattr__(name: str) -> Any:
    """``MetricsCollector`` and ``families`` on first use: they import ``prometheus_client``,
    which only the processes serving ``/metrics`` need (the agent's is ~3 MB smaller)."""
    if name in ("MetricsCollector", "families"):
        from . import prometheus

        return getattr(prometheus, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
