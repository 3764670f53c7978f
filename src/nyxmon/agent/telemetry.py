"""The agent's own metrics: what production code feeds the metrics recorder.

Results are fed as they are (the recorder routes by type), so counting them costs the loop one
``register_event`` per result; gauges are sampled once a second rather than pushed per change.
"""

from __future__ import annotations

from nyxmon.domain.model import Result
from nyxmon.metrics import Counter, Gauge, Histogram, Metric

__all__ = ["LAG_BUCKETS", "agent_metrics"]

LAG_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


def agent_metrics() -> list[Metric]:
    return [
        Counter(
            "check_results_total",
            "Probe results by outcome (ok, fail, error, timeout).",
            on=Result,
            labels=lambda result: (result.outcome.value,),
            label_names=("outcome",),
        ),
        Counter(
            "check_degraded_total",
            "Passing probe results slower than their check allows.",
            on=Result,
            value=lambda result: 1.0 if result.degraded else 0.0,
        ),
        Histogram(
            "check_duration_seconds",
            "How long probes took, every check together.",
            on=Result,
            value="duration",
        ),
        Histogram(
            "scheduler_start_lag_seconds",
            "Actual start minus due time of each probe run.",
            # Read off the result on the metrics thread: no second event per probe on the loop.
            on=Result,
            value="start_lag",
            buckets=LAG_BUCKETS,
        ),
        Histogram(
            "store_batch_seconds", "Time to commit one batch of results.", buckets=LAG_BUCKETS
        ),
        Gauge("scheduler_checks", "Checks being scheduled."),
        Gauge("scheduler_in_flight", "Probe runs in flight."),
        Gauge("scheduler_overruns", "Runs skipped because the previous one was still going."),
        Gauge("store_pending_results", "Results waiting for the store writer."),
        Gauge("store_results_dropped", "Results dropped because the store could not keep up."),
        Gauge("store_write_failures", "Failed write attempts (retried)."),
    ]
