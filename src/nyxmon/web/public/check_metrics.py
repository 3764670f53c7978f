"""Per-check Prometheus series, fed by the agent's own metrics recorder.

Every probe result already goes to the agent's recorder (one ``register_event`` on the probe
loop). Two instruments registered there keep, per check, results by outcome and duration
histograms per phase (HTTP: ``dns``, ``connect``, ``tls``, ``first_byte``, ``total``; other
types ``total``). Their handlers run on the metrics thread, so neither the probe loop nor the
dispatcher does any more work for them, and a scrape reads one recorder snapshot instead of
the store. Histograms are in memory since the agent started, as Prometheus expects of
counters; a restart resets them.
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Mapping
from typing import Any

from nyxmon.domain.model import Result
from nyxmon.metrics import HistogramSample, Metric, MetricSnapshot, Recorder, Sample

__all__ = [
    "DURATION_BUCKETS",
    "DURATION_METRIC",
    "RESULTS_METRIC",
    "CheckDurations",
    "CheckOutcomes",
    "install_check_metrics",
]

#: Seconds; coarse on purpose: 5,000 checks x 5 phases x these buckets is what a scrape reads.
DURATION_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
DURATION_METRIC = "web_check_duration_seconds"
RESULTS_METRIC = "web_check_results"
_INF = float("inf")


class _Phase:
    """Every check's histogram of one phase, in two flat arrays (one row per check).

    A Python object per series (a list of bucket counts, a float sum, a key tuple) cost ~300
    bytes each; 5,000 checks x 3-5 phases made that several MB of the agent's memory.
    """

    __slots__ = ("counts", "rows", "sums", "width")

    def __init__(self, width: int) -> None:
        self.width = width
        self.rows: dict[str, int] = {}
        self.counts = array("q")
        self.sums = array("d")

    def observe(self, check_id: str, bucket: int, seconds: float) -> None:
        row = self.rows.get(check_id)
        if row is None:
            row = self.rows[check_id] = len(self.sums)
            self.counts.extend((0,) * self.width)
            self.sums.append(0.0)
        self.counts[row * self.width + bucket] += 1
        self.sums[row] += seconds


class CheckDurations(Metric):
    """Histogram of probe durations by check and phase (exposed as
    ``nyxmon_check_duration_seconds{check, phase}``)."""

    kind = "histogram"

    def __init__(self, buckets: tuple[float, ...] = DURATION_BUCKETS) -> None:
        super().__init__(
            DURATION_METRIC,
            "Probe duration by check and phase (HTTP: dns, connect, tls, first_byte, total).",
            label_names=("check", "phase"),
        )
        self.buckets = buckets
        self._phases: dict[str, _Phase] = {}

    def routes(self) -> Mapping[Any, Any]:
        return {Result: self._on_result}

    def _on_result(self, result: Result) -> None:
        timings = result.timings
        if "total" not in timings:
            self._observe(result.check_id, "total", result.duration)
        for phase, seconds in timings.items():
            self._observe(result.check_id, phase, seconds)

    def _observe(self, check_id: str, phase: str, seconds: float) -> None:
        series = self._phases.get(phase)
        if series is None:
            series = self._phases[phase] = _Phase(len(self.buckets) + 1)
        series.observe(check_id, bisect.bisect_left(self.buckets, seconds), seconds)

    def snapshot(self, now: float) -> MetricSnapshot:
        bounds = (*self.buckets, _INF)
        samples = []
        # 25,000 series of 11 (bound, count) pairs each: sharing equal pairs across series
        # keeps a snapshot (every scrape, and the final one at shutdown) several MB smaller.
        pairs: dict[tuple[float, int], tuple[float, int]] = {}
        for phase, series in self._phases.items():
            width, counts, sums = series.width, series.counts, series.sums
            for check_id, row in series.rows.items():
                running = 0
                cumulative = []
                for bound, count in zip(
                    bounds, counts[row * width : (row + 1) * width], strict=True
                ):
                    running += count
                    key = (bound, running)
                    cumulative.append(pairs.setdefault(key, key))
                samples.append(
                    HistogramSample(
                        (check_id, phase), running, sums[row], 0.0, 0.0, tuple(cumulative), ()
                    )
                )
        return self._snapshot(tuple(samples))


class CheckOutcomes(Metric):
    """Results by check and outcome (exposed as ``nyxmon_check_results_total``)."""

    kind = "counter"

    def __init__(self) -> None:
        super().__init__(
            RESULTS_METRIC,
            "Probe results by check and outcome (ok, fail, error, timeout).",
            label_names=("check", "outcome"),
        )
        self._counts: dict[tuple[str, str], int] = {}

    def routes(self) -> Mapping[Any, Any]:
        return {Result: self._on_result}

    def _on_result(self, result: Result) -> None:
        key = (result.check_id, result.outcome.value)
        self._counts[key] = self._counts.get(key, 0) + 1

    def snapshot(self, now: float) -> MetricSnapshot:
        return self._snapshot(tuple(Sample(labels, float(n)) for labels, n in self._counts.items()))


def install_check_metrics(recorder: Recorder) -> None:
    """Register both instruments on the agent's recorder, unless an earlier app did."""
    existing = set(recorder.metric_names())
    if DURATION_METRIC not in existing:
        recorder.register_metric(CheckDurations())
    if RESULTS_METRIC not in existing:
        recorder.register_metric(CheckOutcomes())
