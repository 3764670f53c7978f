"""The ``prometheus_client`` side of the exposition: a collector and metric families over
recorder snapshots (see :mod:`nyxmon.metrics.exposition` for the naming and what is exposed).

A module of its own so that only the processes that serve ``/metrics`` import
``prometheus_client``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from prometheus_client.metrics_core import Metric as Family
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from .exposition import collect_snapshots, prometheus_name
from .snapshots import HistogramSample, MetricSnapshot, RecorderSnapshot, Sample

if TYPE_CHECKING:
    from .recorder import Recorder
    from .runtime import MetricsRuntime

__all__ = ["MetricsCollector", "families"]

log = logging.getLogger(__name__)

_TYPES = {"counter": "counter", "gauge": "gauge", "rate": "gauge", "histogram": "histogram"}
_warned: set[str] = set()


class MetricsCollector(Collector):
    """Register with a ``prometheus_client`` registry; every scrape reads fresh snapshots.

    ``collect()`` waits up to ``timeout`` seconds per source for the recorders' loop (then uses
    their last snapshots), so call ``generate_latest`` from a worker thread, not from an event
    loop you care about.
    """

    def __init__(self, *sources: MetricsRuntime | Recorder, timeout: float = 2.0) -> None:
        self._sources: Sequence[MetricsRuntime | Recorder] = sources
        self._timeout = timeout

    def describe(self) -> list[Family]:
        return []  # nothing to check up front; registering must not wait for a scrape

    def collect(self) -> Iterator[Family]:
        yield from families(collect_snapshots(self._sources, self._timeout))


def families(snapshots: Iterable[RecorderSnapshot]) -> list[Family]:
    """The Prometheus metric families for ``snapshots`` (one family per name)."""
    out = _Families()
    for snap in snapshots:
        rec = {"recorder": snap.recorder_id}
        name = partial(prometheus_name, snap.namespace)
        help_ = "events taken off the recorder's queue (unrouted ones included)"
        out.add(name("recorder_events_processed"), "counter", help_, "_total", rec, snap.processed)
        help_ = "events waiting in the recorder's queue"
        out.add(name("recorder_events_pending"), "gauge", help_, "", rec, snap.pending)
        help_ = "events no metric was bound to"
        out.add(name("recorder_events_unrouted"), "counter", help_, "_total", rec, snap.unrouted)
        help_ = "events refused, by reason: the overflow policy that applied, or 'stopped'"
        for reason, n in sorted(snap.dropped.items()):
            labels = {**rec, "reason": reason}
            out.add(name("recorder_events_dropped"), "counter", help_, "_total", labels, n)
        help_ = "1 when the recorder's loop did not answer and its last snapshot was used"
        out.add(name("recorder_snapshot_stale"), "gauge", help_, "", rec, int(snap.stale))
        for metric in snap.metrics.values():
            labels = {**rec, "metric": metric.name}
            help_ = "events whose handler raised, by metric"
            out.add(
                name("metric_handler_errors"), "counter", help_, "_total", labels, metric.errors
            )
            help_ = "events folded into the 'other' series by the cardinality limit, by metric"
            out.add(name("metric_series_folded"), "counter", help_, "_total", labels, metric.folded)
        for metric in snap.metrics.values():
            _add_metric(out, name(metric.name), metric, rec)
    return out.families()


def _add_metric(out: _Families, full: str, metric: MetricSnapshot, rec: dict[str, str]) -> None:
    kind = _TYPES.get(metric.kind, "unknown")
    for sample in metric.samples:
        labels = {**rec, **dict(zip(metric.label_names, sample.labels, strict=True))}
        if isinstance(sample, Sample):
            suffix = "_total" if kind == "counter" else ""
            out.add(full, kind, metric.help, suffix, labels, sample.value)
        elif isinstance(sample, HistogramSample):
            _add_histogram(out, full, metric.help, labels, sample)


def _add_histogram(
    out: _Families, full: str, help_: str, labels: dict[str, str], sample: HistogramSample
) -> None:
    family = out.family(full, "histogram", help_)
    if family is None:
        return
    for bound, count in sample.buckets:
        family.add_sample(f"{full}_bucket", {**labels, "le": _go(bound)}, count)
    family.add_sample(f"{full}_count", labels, sample.count)
    family.add_sample(f"{full}_sum", labels, sample.sum)
    # The sketch's quantiles are a summary in Prometheus' terms, so they are exposed as one
    # (a gauge with a ``quantile`` label fails ``promtool check metrics``). It needs its own
    # name beside the histogram's; its sum and count repeat the histogram's.
    summary = out.family(f"{full}_quantile", "summary", f"{help_} (streaming quantile estimates)")
    if summary is None:
        return
    if sample.count:
        for q, value in sample.quantiles:
            summary.add_sample(summary.name, {**labels, "quantile": _go(q)}, value)
    summary.add_sample(f"{summary.name}_count", labels, sample.count)
    summary.add_sample(f"{summary.name}_sum", labels, sample.sum)


def _go(value: float) -> str:
    """Prometheus' spelling of a float label value (``+Inf``, ``0.5``)."""
    return str(floatToGoString(value))  # type: ignore[no-untyped-call]


class _Families:
    """Families by name; a name claimed by one type refuses samples of another (logged once)."""

    def __init__(self) -> None:
        self._by_name: dict[str, Family] = {}

    def family(self, full: str, kind: str, help_: str) -> Family | None:
        base = full[:-6] if kind == "counter" and full.endswith("_total") else full
        family = self._by_name.get(base)
        if family is None:
            family = self._by_name[base] = Family(base, help_, kind)
        elif family.type != kind:
            if base not in _warned:
                _warned.add(base)
                log.warning(
                    "metric %r is exposed as %s and as %s; kept the first", base, family.type, kind
                )
            return None
        return family

    def add(
        self, full: str, kind: str, help_: str, suffix: str, labels: dict[str, str], value: Any
    ) -> None:
        family = self.family(full, kind, help_)
        if family is not None:
            family.add_sample(family.name + suffix, labels, float(value))

    def families(self) -> list[Family]:
        return list(self._by_name.values())
