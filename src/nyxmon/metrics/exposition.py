"""Exposition: recorder snapshots collected, named and dumped as JSON.

The ``prometheus_client`` collector over them is :mod:`nyxmon.metrics.prometheus`, apart:
the agent collects snapshots for its web process without importing that library (~3 MB).

Prometheus names are ``<namespace>_<metric>`` (the namespace with anything but letters, digits,
``_`` and ``:`` turned into ``_``); every series carries a ``recorder`` label. Besides the
metrics themselves each recorder exposes its own health: events processed, pending, unrouted,
dropped (by reason), handler errors and label sets folded into ``other`` (by metric), and
whether its snapshot was stale. The text format itself is left to ``prometheus_client``.

A histogram ``X`` is exposed twice: its buckets as the Prometheus histogram ``X`` (what
``histogram_quantile`` aggregates across series), and its sketch's quantile estimates, over
everything since the recorder started and within the sketch's stated error, as the summary
``X_quantile``. Both pass ``promtool check metrics``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from .recorder import Recorder
from .snapshots import RecorderSnapshot

if TYPE_CHECKING:
    from .runtime import MetricsRuntime

__all__ = ["collect_snapshots", "json_snapshot", "prometheus_name"]

_INVALID = re.compile(r"[^a-zA-Z0-9_:]")


def prometheus_name(namespace: str, metric: str) -> str:
    prefix = _INVALID.sub("_", namespace).strip("_") or "nyxmon"
    if prefix[0].isdigit():
        prefix = "_" + prefix
    return f"{prefix}_{metric}"


def collect_snapshots(
    sources: Iterable[MetricsRuntime | Recorder], timeout: float = 2.0
) -> list[RecorderSnapshot]:
    """The current snapshot of every recorder of ``sources`` (stale ones past ``timeout``)."""
    out: list[RecorderSnapshot] = []
    for source in sources:
        if isinstance(source, Recorder):
            out.append(source.get_metric_snapshots(timeout))
        else:
            out.extend(source.snapshots(timeout).values())
    return out


def json_snapshot(
    *sources: MetricsRuntime | Recorder, timeout: float = 2.0, indent: int | None = None
) -> str:
    """All recorders' snapshots as one JSON document: ``{"recorders": [...]}``."""
    snaps = collect_snapshots(sources, timeout)
    return json.dumps({"recorders": [s.to_dict() for s in snaps]}, allow_nan=False, indent=indent)
