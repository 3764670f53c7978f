"""Counter, Gauge and Rate, and the event binding all built-in instruments share.

An instrument is bound to one event type. By default that is a generic event of
:mod:`.events` carrying the instrument's name (``Increment("requests_total")``); give ``on=`` your
own event type instead and say how to read it: ``value=`` an attribute name or a function,
``labels=`` attribute names (they become the label names) or a function returning a tuple
(then pass ``label_names=``)::

    Counter("requests_total", on=RequestDone, labels=("method", "status"))
    Histogram("request_seconds", on=RequestDone, value="elapsed", labels=("method",))
    Rate("requests_per_second", source="requests_total")   # fed by the counter's events
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from operator import attrgetter
from typing import Any, ClassVar, Generic, Literal, TypeVar

from .errors import MetricDefinitionError
from .events import NAMED_EVENT_TYPES, Increment, SetGauge
from .metric import Handler, Metric, RouteKey, SeriesTable, check_label_names
from .snapshots import MetricSnapshot, Sample

__all__ = ["DEFAULT_MAX_SERIES", "Counter", "Gauge", "Instrument", "Rate"]

S = TypeVar("S")
Getter = Callable[[Any], Any]
ValueSpec = str | Callable[[Any], float] | None
LabelSpec = Sequence[str] | Callable[[Any], tuple[Any, ...]] | None

#: Distinct label sets a metric keeps before folding new ones into the ``other`` series.
DEFAULT_MAX_SERIES = 1000


class Instrument(Metric, Generic[S]):
    """Shared binding logic: which events feed the instrument and how to read value and labels."""

    default_event: ClassVar[type]
    #: Whether an event with no value makes sense (counting events); else ``value=`` is required.
    counts_events: ClassVar[bool] = False
    reserved_labels: ClassVar[frozenset[str]] = frozenset()

    def __init__(
        self,
        name: str,
        help: str = "",
        *,
        on: type | None = None,
        source: str | None = None,
        value: ValueSpec = None,
        labels: LabelSpec = None,
        label_names: Sequence[str] | None = None,
        max_series: int = DEFAULT_MAX_SERIES,
    ) -> None:
        event_type = self.default_event if on is None else on
        if not isinstance(event_type, type):
            raise MetricDefinitionError(f"metric {name!r}: on= must be an event class, got {on!r}")
        value_of: Getter | None
        labels_of: Getter | None
        if event_type in NAMED_EVENT_TYPES:
            if value is not None or labels is not None:
                raise MetricDefinitionError(
                    f"metric {name!r}: value= and labels= read your own event types; "
                    f"{event_type.__name__} events carry their value and labels"
                )
            names = tuple(label_names or ())
            self._key: RouteKey = (event_type, source or name)
            value_of = labels_of = None
        else:
            if source is not None:
                raise MetricDefinitionError(
                    f"metric {name!r}: source= names the metric in generic events; "
                    f"{event_type.__name__} events are routed by type alone"
                )
            self._key = event_type
            value_of = _value_getter(name, value, self.counts_events)
            labels_of, names = _labels_getter(name, labels, label_names)
        super().__init__(name, help)
        self.label_names = check_label_names(name, names, self.reserved_labels)
        self.event_type = event_type
        self._table: SeriesTable[S] = SeriesTable(
            name, self.label_names, max_series, self._new_series
        )
        if not self.label_names:
            self._table.lookup(())  # an unlabelled metric shows its zero before any event
        if event_type in NAMED_EVENT_TYPES:
            self._handler = self._bind_named()
        else:
            self._handler = self._bind(value_of, labels_of)

    def routes(self) -> Mapping[RouteKey, Handler]:
        return {self._key: self._handler}

    def _new_series(self) -> S:
        raise NotImplementedError

    def _apply(self) -> Callable[[S, float], None]:
        """The state update, ``apply(series, value)``; raising rejects the event."""
        raise NotImplementedError

    def _bind_named(self) -> Handler:
        """The handler for the generic events: value in field 1, label values in field 2."""
        apply = self._apply()
        by_key, lookup = self._table.by_key, self._table.lookup

        def handle(event: Any) -> None:
            series = by_key.get(event[2])
            apply(lookup(event[2]) if series is None else series, event[1])

        return handle

    def _bind(self, value_of: Getter | None, labels_of: Getter | None) -> Handler:
        apply = self._apply()
        table = self._table
        if labels_of is None:
            only = table.lookup(())
            if value_of is None:
                return lambda event: apply(only, 1.0)
            return lambda event: apply(only, value_of(event))
        by_key, lookup = table.by_key, table.lookup
        if value_of is None:

            def count(event: Any) -> None:
                key = labels_of(event)
                series = by_key.get(key)
                apply(lookup(key) if series is None else series, 1.0)

            return count

        def handle(event: Any) -> None:
            key = labels_of(event)
            series = by_key.get(key)
            apply(lookup(key) if series is None else series, value_of(event))

        return handle


class _Value:
    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0.0


class Counter(Instrument[_Value]):
    """A monotonically increasing total; negative increments are rejected (counted as errors)."""

    kind = "counter"
    default_event = Increment
    counts_events = True

    def _new_series(self) -> _Value:
        return _Value()

    def _apply(self) -> Callable[[_Value, float], None]:
        def add(series: _Value, amount: float) -> None:
            if amount < 0:
                raise ValueError(f"a counter cannot decrease (increment {amount!r})")
            series.value += amount

        return add

    def _bind_named(self) -> Handler:
        # The hottest path of all (Increment events): the update inlined, one call per event.
        by_key, lookup = self._table.by_key, self._table.lookup

        def increment(event: Any) -> None:
            amount = event[1]
            if amount < 0:
                raise ValueError(f"a counter cannot decrease (increment {amount!r})")
            series = by_key.get(event[2])
            if series is None:
                series = lookup(event[2])
            series.value += amount

        return increment

    def snapshot(self, now: float) -> MetricSnapshot:
        samples = tuple(Sample(labels, s.value) for labels, s in self._table.items())
        return self._snapshot(samples, self._table.folded)


class Gauge(Instrument[_Value]):
    """A value that goes up and down: ``mode="set"`` takes each value, ``"add"`` sums them."""

    kind = "gauge"
    default_event = SetGauge

    def __init__(
        self, name: str, help: str = "", *, mode: Literal["set", "add"] = "set", **binding: Any
    ) -> None:
        if mode not in ("set", "add"):
            raise MetricDefinitionError(
                f"gauge {name!r}: mode must be 'set' or 'add', got {mode!r}"
            )
        self.mode = mode
        super().__init__(name, help, **binding)

    def _new_series(self) -> _Value:
        return _Value()

    def _apply(self) -> Callable[[_Value, float], None]:
        if self.mode == "add":

            def add(series: _Value, value: float) -> None:
                series.value += value

            return add

        def set_(series: _Value, value: float) -> None:
            series.value = value + 0.0  # rejects non-numbers here, not at exposition time

        return set_

    def snapshot(self, now: float) -> MetricSnapshot:
        samples = tuple(Sample(labels, s.value) for labels, s in self._table.items())
        return self._snapshot(samples, self._table.folded)


class _RateSeries:
    __slots__ = ("pending", "rate", "weight")

    def __init__(self) -> None:
        self.pending = 0.0
        self.rate = 0.0
        self.weight = 0.0


class Rate(Instrument[_RateSeries]):
    """Events (or summed amounts) per second, exponentially weighted with time constant ``tau``.

    Between ticks the amounts are summed; a tick after ``dt`` seconds blends the interval's
    average rate in with weight ``1 - exp(-dt / tau)``, the continuous-time EWMA for irregular
    intervals. The reported value divides by the accumulated weight, so it is unbiased from the
    first interval on (a young series reports its average so far, not a value rising from 0).
    """

    kind = "rate"
    default_event = Increment
    counts_events = True
    ticks = True

    def __init__(self, name: str, help: str = "", *, tau: float = 60.0, **binding: Any) -> None:
        if not tau > 0:
            raise MetricDefinitionError(f"rate {name!r}: tau must be > 0 seconds, got {tau!r}")
        self.tau = tau
        self._last: float | None = None
        super().__init__(name, help, **binding)

    def _new_series(self) -> _RateSeries:
        return _RateSeries()

    def _apply(self) -> Callable[[_RateSeries, float], None]:
        def add(series: _RateSeries, amount: float) -> None:
            series.pending += amount

        return add

    def tick(self, now: float) -> None:
        if self._last is None:
            self._last = now
            return
        dt = now - self._last
        if dt <= 0:
            return
        self._last = now
        keep = math.exp(-dt / self.tau)
        for _, series in self._table.items():
            series.rate = keep * series.rate + (1.0 - keep) * (series.pending / dt)
            series.weight = keep * series.weight + (1.0 - keep)
            series.pending = 0.0

    def snapshot(self, now: float) -> MetricSnapshot:
        self.tick(now)
        samples = tuple(
            Sample(labels, s.rate / s.weight if s.weight > 0 else 0.0)
            for labels, s in self._table.items()
        )
        return self._snapshot(samples, self._table.folded)


def _value_getter(metric: str, value: ValueSpec, counts_events: bool) -> Getter | None:
    if value is None:
        if counts_events:
            return None
        raise MetricDefinitionError(
            f"metric {metric!r}: value= is needed to read a value from your event type"
        )
    if isinstance(value, str):
        return attrgetter(value)
    if callable(value):
        return value
    raise MetricDefinitionError(f"metric {metric!r}: value= must be an attribute name or function")


def _labels_getter(
    metric: str, labels: LabelSpec, label_names: Sequence[str] | None
) -> tuple[Getter | None, tuple[str, ...]]:
    if labels is None:
        if label_names:
            raise MetricDefinitionError(
                f"metric {metric!r}: label_names= given without labels= to read them"
            )
        return None, ()
    if callable(labels):
        if not label_names:
            raise MetricDefinitionError(
                f"metric {metric!r}: a labels= function needs label_names= to name its values"
            )
        return labels, tuple(label_names)
    if isinstance(labels, str) or not all(isinstance(n, str) for n in labels):
        raise MetricDefinitionError(
            f"metric {metric!r}: labels= must be a sequence of attribute names, got {labels!r}"
        )
    names = tuple(labels)
    if label_names is not None and tuple(label_names) != names:
        raise MetricDefinitionError(
            f"metric {metric!r}: labels= {names!r} already names the labels; drop label_names="
        )
    if not names:
        return None, ()
    if len(names) == 1:
        one = attrgetter(names[0])
        return (lambda event: (one(event),)), names
    return attrgetter(*names), names
