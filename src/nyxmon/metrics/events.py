"""Ready-made metric events, and how recorders tell event types apart.

A recorder routes an event by ``type(event)`` to the metrics bound to that type, so any class can
be an event (a NamedTuple is the cheapest to build and immutable, so a hot path can build one
once and register it again and again). The three generic events below carry the metric's name;
a recorder routes them by ``(type, metric)``, so unrelated metrics never see them.
"""

from __future__ import annotations

from typing import Final, NamedTuple

__all__ = ["NAMED_EVENT_TYPES", "Increment", "Observe", "SetGauge"]


class Increment(NamedTuple):
    """Add ``amount`` to the counter (or rate) named ``metric``."""

    metric: str
    amount: float = 1
    labels: tuple[str, ...] = ()


class SetGauge(NamedTuple):
    """Set the gauge named ``metric`` to ``value`` (or add it, for a gauge in ``add`` mode)."""

    metric: str
    value: float
    labels: tuple[str, ...] = ()


class Observe(NamedTuple):
    """Record ``value`` in the histogram named ``metric`` (timers emit these, in seconds)."""

    metric: str
    value: float
    labels: tuple[str, ...] = ()


#: Event types routed by their ``metric`` field as well as their type; field 1 is the value and
#: field 2 the label values.
NAMED_EVENT_TYPES: Final = frozenset({Increment, SetGauge, Observe})
