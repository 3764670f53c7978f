"""Routing tables: which handler the drain calls for an event, built once per registration."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeAlias

from .errors import MetricDefinitionError
from .events import NAMED_EVENT_TYPES
from .metric import Handler, Metric, RouteKey

__all__ = ["Entries", "Routes", "check_route", "compile_routes"]

Entry: TypeAlias = tuple[Metric, Handler]
Entries: TypeAlias = dict[RouteKey, tuple[Entry, ...]]
#: What the drain looks up: one handler per event type, or per metric name for generic events.
Routes: TypeAlias = dict[type, "Handler | dict[str, Handler]"]
Failed: TypeAlias = Callable[[Metric, Exception], None]


def compile_routes(entries: Entries, failed: Failed) -> tuple[dict[Handler, Metric], Routes]:
    """One callable per key, so the drain makes one call per event: the metric's own handler
    when it is alone on its key (its failures are attributed through the returned owners), else
    a fan-out that isolates each metric's failures itself."""
    owners: dict[Handler, Metric] = {}
    routes: Routes = {}
    for key, group in entries.items():
        if len(group) == 1:
            metric, handler = group[0]
            owners[handler] = metric
        else:
            handler = _fan_out(group, failed)
        if isinstance(key, tuple):
            named = routes.setdefault(key[0], {})
            assert isinstance(named, dict)
            named[key[1]] = handler
        else:
            routes[key] = handler
    return owners, routes


def _fan_out(group: tuple[Entry, ...], failed: Failed) -> Handler:
    def fan_out(event: Any) -> None:
        for metric, handle in group:
            try:
                handle(event)
            except Exception as exc:
                failed(metric, exc)

    return fan_out


def check_route(metric: Metric, key: object) -> None:
    if isinstance(key, tuple):
        if len(key) == 2 and key[0] in NAMED_EVENT_TYPES and isinstance(key[1], str):
            return
        raise MetricDefinitionError(
            f"metric {metric.name!r}: route {key!r} must be (Increment|SetGauge|Observe, name)"
        )
    if not isinstance(key, type):
        raise MetricDefinitionError(f"metric {metric.name!r}: route {key!r} is not an event type")
    if key in NAMED_EVENT_TYPES:
        raise MetricDefinitionError(
            f"metric {metric.name!r}: route {key.__name__} events by name, as "
            f"({key.__name__}, metric_name)"
        )
