"""The Metric contract, name and label checks, and the per-metric series table.

A :class:`Metric` declares which event types it consumes (:meth:`Metric.routes`) and turns its
state into a frozen :class:`~nyxmon.metrics.snapshots.MetricSnapshot`. Its handlers are plain
synchronous functions called on the recorder's loop, the only place its state changes; a handler
that raises costs that event for that metric only (the recorder counts and logs it).
"""

from __future__ import annotations

import abc
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, Generic, TypeAlias, TypeVar

from .errors import MetricDefinitionError
from .snapshots import MetricSnapshot

__all__ = [
    "OTHER",
    "RESERVED_LABELS",
    "Handler",
    "Metric",
    "RouteKey",
    "SeriesTable",
    "check_label_names",
    "check_metric_name",
]

S = TypeVar("S")
#: ``type(event)``, or ``(type, metric name)`` for the generic events of :mod:`.events`.
RouteKey: TypeAlias = "type | tuple[type, str]"
Handler: TypeAlias = Callable[[Any], None]

#: The label value of the series that absorbs label sets past a metric's cardinality limit.
OTHER = "other"
#: Added by the Prometheus exposition; metrics may not use them as their own labels.
RESERVED_LABELS = frozenset({"recorder"})

_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")


def check_metric_name(name: object) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise MetricDefinitionError(
            f"metric name {name!r} is invalid: use letters, digits, '_' and ':', not starting "
            "with a digit (it becomes part of a Prometheus name)"
        )
    return name


def check_label_names(
    metric: str, names: Sequence[str], reserved: frozenset[str]
) -> tuple[str, ...]:
    out = tuple(names)
    for label in out:
        if not isinstance(label, str) or not _LABEL.match(label) or label.startswith("__"):
            raise MetricDefinitionError(
                f"metric {metric!r}: label name {label!r} is invalid (letters, digits and '_', "
                "not starting with a digit or '__')"
            )
        if label in reserved or label in RESERVED_LABELS:
            raise MetricDefinitionError(f"metric {metric!r}: label name {label!r} is reserved")
    if len(set(out)) != len(out):
        raise MetricDefinitionError(f"metric {metric!r}: label names repeat: {out!r}")
    return out


class Metric(abc.ABC):
    """A named instrument fed by a recorder. Subclass it for a custom metric.

    ``errors`` and ``last_error`` are maintained by the recorder (handler failures).
    """

    kind: ClassVar[str] = "untyped"
    #: Whether :meth:`tick` must be called as time passes (rates); the recorder does it per batch
    #: at most once a second, and before every snapshot.
    ticks: ClassVar[bool] = False

    def __init__(self, name: str, help: str = "", *, label_names: Sequence[str] = ()) -> None:
        self.name = check_metric_name(name)
        self.help = help or name.replace("_", " ")
        self.label_names = check_label_names(name, label_names, frozenset())
        self.errors = 0
        self.last_error: str | None = None

    @abc.abstractmethod
    def routes(self) -> Mapping[RouteKey, Handler]:
        """Which events this metric consumes, and the handler for each."""

    @abc.abstractmethod
    def snapshot(self, now: float) -> MetricSnapshot:
        """A frozen copy of the current state; ``now`` is the recorder's clock."""

    def tick(self, now: float) -> None:  # noqa: B027 - optional hook, most metrics need none
        """Let time-based state catch up with ``now`` (only called when ``ticks`` is true)."""

    def _snapshot(self, samples: Any, folded: int = 0) -> MetricSnapshot:
        return MetricSnapshot(
            name=self.name,
            kind=self.kind,
            help=self.help,
            label_names=self.label_names,
            samples=samples,
            errors=self.errors,
            last_error=self.last_error,
            folded=folded,
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


class SeriesTable(Generic[S]):
    """Series state by label values, with a cardinality limit.

    ``by_key`` maps the raw label tuples events carry to their series (the handlers' fast path);
    :meth:`lookup` is the slow path for a first sighting: it checks the arity, turns values into
    strings (so ``200`` and ``"200"`` are one series) and, past ``limit`` distinct series, answers
    with the shared ``other`` series and counts the event in ``folded``.
    """

    __slots__ = (
        "_by_labels",
        "_factory",
        "_limit",
        "_metric",
        "_names",
        "_other",
        "_real",
        "by_key",
        "folded",
    )

    def __init__(
        self, metric: str, names: tuple[str, ...], limit: int, factory: Callable[[], S]
    ) -> None:
        if limit < 1:
            raise MetricDefinitionError(f"metric {metric!r}: max_series must be >= 1, got {limit}")
        self._metric = metric
        self._names = names
        self._limit = limit
        self._factory = factory
        self._by_labels: dict[tuple[str, ...], S] = {}
        self._other = (OTHER,) * len(names)
        self._real = 0
        self.by_key: dict[Any, S] = {}
        self.folded = 0

    def lookup(self, key: Any) -> S:
        if type(key) is not tuple or len(key) != len(self._names):
            raise ValueError(
                f"metric {self._metric!r} takes labels {self._names!r}; got {key!r} "
                f"(a tuple of {len(self._names)} values is needed)"
            )
        labels = tuple(v if type(v) is str else str(v) for v in key)
        series = self._by_labels.get(labels)
        if series is None:
            if labels != self._other:
                if self._real >= self._limit:
                    self.folded += 1
                    return self.lookup(self._other)
                self._real += 1
            series = self._by_labels[labels] = self._factory()
        if len(self.by_key) < 4 * self._limit + 16:
            self.by_key[key] = series
        return series

    def items(self) -> list[tuple[tuple[str, ...], S]]:
        return list(self._by_labels.items())
