"""Frozen snapshot records: what a recorder's metrics looked like at one moment.

Snapshots are built on the recorder's loop (the only place metric state changes) and handed to
any thread; they share nothing mutable with the metrics, so readers need no locks.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["HistogramSample", "MetricSnapshot", "RecorderSnapshot", "Sample"]


@dataclass(frozen=True, slots=True)
class Sample:
    """One series of a counter, gauge or rate."""

    labels: tuple[str, ...]
    value: float


@dataclass(frozen=True, slots=True)
class HistogramSample:
    """One series of a histogram.

    ``buckets`` holds ``(upper_bound, cumulative_count)`` pairs ending with ``+inf``;
    ``quantiles`` holds ``(q, estimate)`` pairs from the streaming sketch, each within the
    histogram's stated relative error of the exact nearest-rank quantile.
    """

    labels: tuple[str, ...]
    count: int
    sum: float
    min: float
    max: float
    buckets: tuple[tuple[float, int], ...]
    quantiles: tuple[tuple[float, float], ...]

    def quantile(self, q: float) -> float:
        for known, value in self.quantiles:
            if known == q:
                return value
        raise KeyError(f"quantile {q} is not tracked; tracked: {[k for k, _ in self.quantiles]}")


@dataclass(frozen=True, slots=True)
class MetricSnapshot:
    """One metric: its kind (``counter``, ``gauge``, ``histogram``, ``rate``) and series.

    ``errors`` counts events whose handler raised (``last_error`` describes the latest);
    ``folded`` counts events sent to the ``other`` series by the cardinality limit.
    """

    name: str
    kind: str
    help: str
    label_names: tuple[str, ...]
    samples: tuple[Sample, ...] | tuple[HistogramSample, ...]
    errors: int = 0
    last_error: str | None = None
    folded: int = 0

    def sample(self, labels: tuple[str, ...] = ()) -> Sample | HistogramSample:
        for sample in self.samples:
            if sample.labels == labels:
                return sample
        raise KeyError(f"metric {self.name!r} has no series with labels {labels!r}")

    def value(self, labels: tuple[str, ...] = ()) -> float:
        """The value of a counter, gauge or rate series (a histogram's count)."""
        sample = self.sample(labels)
        return sample.value if isinstance(sample, Sample) else float(sample.count)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "help": self.help,
            "label_names": list(self.label_names),
            "errors": self.errors,
            "last_error": self.last_error,
            "folded": self.folded,
            "samples": [_sample_dict(s) for s in self.samples],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MetricSnapshot:
        """The inverse of :meth:`to_dict` (another process's snapshot, read back)."""
        samples = tuple(_sample_from_dict(s) for s in data["samples"])
        return cls(
            name=str(data["name"]),
            kind=str(data["kind"]),
            help=str(data["help"]),
            label_names=tuple(str(n) for n in data["label_names"]),
            samples=samples,  # type: ignore[arg-type]  # one kind per metric, as written
            errors=int(data.get("errors", 0)),
            last_error=data.get("last_error"),
            folded=int(data.get("folded", 0)),
        )


@dataclass(frozen=True, slots=True)
class RecorderSnapshot:
    """A recorder's metrics plus its own figures.

    ``processed`` counts events taken off the queue (``unrouted`` of them matched no metric),
    ``pending`` those still queued, ``dropped`` the refused ones by reason (``drop_newest``,
    ``drop_oldest``, ``raise``, ``stopped``). ``stale`` is true when the recorder's loop did not
    answer in time (or is gone) and this is the last snapshot it published; ``stale_reason`` says
    why.
    """

    recorder_id: str
    entity_id: str
    namespace: str
    state: str
    taken_at: float
    processed: int
    pending: int
    unrouted: int
    dropped: Mapping[str, int]
    metrics: Mapping[str, MetricSnapshot]
    stale: bool = False
    stale_reason: str | None = None

    @property
    def dropped_total(self) -> int:
        return sum(self.dropped.values())

    @property
    def handler_errors(self) -> int:
        return sum(m.errors for m in self.metrics.values())

    def metric(self, name: str) -> MetricSnapshot:
        try:
            return self.metrics[name]
        except KeyError:
            known = ", ".join(sorted(self.metrics)) or "none"
            raise KeyError(
                f"recorder {self.recorder_id!r} has no metric {name!r}; known: {known}"
            ) from None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (infinities become the strings ``+Inf``/``-Inf``)."""
        return {
            "recorder_id": self.recorder_id,
            "entity_id": self.entity_id,
            "namespace": self.namespace,
            "state": self.state,
            "taken_at": self.taken_at,
            "processed": self.processed,
            "pending": self.pending,
            "unrouted": self.unrouted,
            "dropped": dict(self.dropped),
            "dropped_total": self.dropped_total,
            "handler_errors": self.handler_errors,
            "stale": self.stale,
            "stale_reason": self.stale_reason,
            "metrics": {name: m.to_dict() for name, m in self.metrics.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RecorderSnapshot:
        """The inverse of :meth:`to_dict` (another process's snapshot, read back)."""
        return cls(
            recorder_id=str(data["recorder_id"]),
            entity_id=str(data["entity_id"]),
            namespace=str(data["namespace"]),
            state=str(data["state"]),
            taken_at=float(data["taken_at"]),
            processed=int(data["processed"]),
            pending=int(data["pending"]),
            unrouted=int(data["unrouted"]),
            dropped={str(k): int(v) for k, v in data["dropped"].items()},
            metrics={str(name): MetricSnapshot.from_dict(m) for name, m in data["metrics"].items()},
            stale=bool(data.get("stale", False)),
            stale_reason=data.get("stale_reason"),
        )


def _sample_dict(sample: Sample | HistogramSample) -> dict[str, Any]:
    if isinstance(sample, Sample):
        return {"labels": list(sample.labels), "value": _num(sample.value)}
    return {
        "labels": list(sample.labels),
        "count": sample.count,
        "sum": _num(sample.sum),
        "min": _num(sample.min),
        "max": _num(sample.max),
        "buckets": [[_num(le), n] for le, n in sample.buckets],
        "quantiles": {str(q): _num(v) for q, v in sample.quantiles},
    }


def _num(value: float) -> float | str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    return value


def _sample_from_dict(data: Mapping[str, Any]) -> Sample | HistogramSample:
    labels = tuple(str(label) for label in data["labels"])
    if "value" in data:
        return Sample(labels, _float(data["value"]))
    return HistogramSample(
        labels,
        int(data["count"]),
        _float(data["sum"]),
        _float(data["min"]),
        _float(data["max"]),
        tuple((_float(le), int(n)) for le, n in data["buckets"]),
        tuple((float(q), _float(v)) for q, v in data["quantiles"].items()),
    )


def _float(value: float | str) -> float:
    return float(value)  # "+Inf", "-Inf" and "NaN" read back as the floats they were
