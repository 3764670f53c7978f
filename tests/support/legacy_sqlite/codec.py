"""Conversions between SQLite rows and domain values.

JSON columns are written canonically (sorted keys, no spaces) so comparing two stored
definitions is comparing two strings, and reconcile can tell "changed" from "unchanged".
"""

from __future__ import annotations

import functools
import json
import math
import sys
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from nyxmon.domain.history.histogram import DurationHistogram
from nyxmon.domain.history.rollups import RollupRow
from nyxmon.domain.model import Check, CheckSource, Outcome, Result, Service
from nyxmon.errors import StoreError
from nyxmon.service_layer.records.results import StoredResult

__all__ = [
    "CHECKS_JOINED",
    "CHECK_COLUMNS",
    "CHECK_FIELD_COUNT",
    "CHECK_READ_COLUMNS",
    "CHECK_SOURCE_INDEX",
    "RESULT_COLUMNS",
    "ROLLUP_COLUMNS",
    "SERVICE_COLUMNS",
    "check_from_row",
    "check_values",
    "dump_json",
    "result_from_row",
    "result_values",
    "rollup_from_row",
    "rollup_values",
    "service_from_row",
    "service_values",
]

SERVICE_COLUMNS = "name, grp, labels, description"
_CHECK_FIELDS = (
    "id",
    "service",
    "name",
    "type",
    "interval",
    "timeout",
    "params",
    "conditions",
    "enabled",
    "paused",
    "labels",
    "source",
    "alert",
)
CHECK_COLUMNS = ", ".join(_CHECK_FIELDS)
CHECK_FIELD_COUNT = len(_CHECK_FIELDS)
#: A check as it is read: its own columns (``c.``) and its service's labels and group (``s.``,
#: the inheritance :class:`~nyxmon.domain.model.Check` describes), from :data:`CHECKS_JOINED`.
CHECK_READ_COLUMNS = ", ".join(f"c.{name}" for name in _CHECK_FIELDS) + ", s.labels, s.grp"
CHECKS_JOINED = "checks c LEFT JOIN services s ON s.name = c.service"
CHECK_SOURCE_INDEX = _CHECK_FIELDS.index("source")
#: Result columns after the check id (which callers select as ``c.id`` or a literal).
RESULT_COLUMNS = (
    "r.id, r.scheduled_at, r.started_at, r.duration, r.outcome, r.degraded, r.message, "
    "r.timings, r.details"
)
ROLLUP_COLUMNS = (
    "start, count, ok_count, degraded_count, duration_min, duration_max, duration_sum, "
    "duration_p95, histogram"
)
_OUTCOMES = frozenset(o.value for o in Outcome)


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)


def dump_json(value: Any) -> str:
    """Canonical JSON; values JSON cannot hold (datetimes, bytes) are stored as their str()."""
    if not value:
        return "{}" if isinstance(value, dict) else _ENCODER.encode(value)
    return _ENCODER.encode(value)


_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _frozen(text: str) -> Mapping[str, Any]:
    """A read-only mapping of the JSON object ``text``.

    Keys are interned and empty objects shared: every live check carries its params (about 18
    keys once validated), labels and alert settings, and with 5,000 checks the repeated key
    strings alone were ~5 MB of the agent's memory.
    """
    if text == "{}":
        return _EMPTY
    value = json.loads(text)
    if isinstance(value, dict):
        value = {sys.intern(key): item for key, item in value.items()}
    return MappingProxyType(value)


@functools.lru_cache(maxsize=1024)
def _service_labels(text: str) -> Mapping[str, Any]:
    """One read-only mapping per distinct service labels text: every check of a service
    carries the same one (thousands of checks, a few services)."""
    return _frozen(text)


def service_values(service: Service) -> tuple[str, str, str, str]:
    return (service.name, service.group, dump_json(dict(service.labels)), service.description)


def service_from_row(row: Sequence[Any]) -> Service:
    return Service(name=row[0], group=row[1], labels=_frozen(row[2]), description=row[3])


def check_values(check: Check) -> tuple[Any, ...]:
    """Column values in CHECK_COLUMNS order."""
    return (
        check.id,
        check.service,
        check.name,
        check.type,
        float(check.interval),
        float(check.timeout),
        dump_json(dict(check.params)),
        dump_json(list(check.conditions)),
        int(bool(check.enabled)),
        int(bool(check.paused)),
        dump_json(dict(check.labels)),
        CheckSource(check.source).value,
        dump_json(dict(check.alert)),
    )


def check_from_row(row: Sequence[Any]) -> Check:
    """The check of a :data:`CHECK_READ_COLUMNS` row (a check without a service row inherits
    nothing)."""
    return Check(
        id=row[0],
        service=row[1],
        name=row[2],
        type=row[3],
        interval=row[4],
        timeout=row[5],
        params=_frozen(row[6]),
        conditions=tuple(json.loads(row[7])),
        enabled=bool(row[8]),
        paused=bool(row[9]),
        labels=_frozen(row[10]),
        source=CheckSource(row[11]),
        alert=_frozen(row[12]),
        service_labels=_service_labels(row[13] or "{}"),
        group=row[14] or "",
    )


def _finite(value: float, field: str, index: int, check_id: str) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise StoreError(f"result {index} of the batch (check {check_id!r}): {field} is {value!r}")
    return number


def result_values(check_pk: int, result: Result, index: int) -> tuple[Any, ...]:
    """Insert values for one result; StoreError naming the row and field if it is invalid."""
    check_id = result.check_id
    duration = _finite(result.duration, "duration", index, check_id)
    if duration < 0:
        raise StoreError(
            f"result {index} of the batch (check {check_id!r}): duration {duration!r} is negative"
        )
    outcome = str(getattr(result.outcome, "value", result.outcome))
    if outcome not in _OUTCOMES:
        raise StoreError(
            f"result {index} of the batch (check {check_id!r}): outcome {outcome!r} is not one "
            f"of {', '.join(sorted(_OUTCOMES))}"
        )
    return (
        check_pk,
        _finite(result.scheduled_at, "scheduled_at", index, check_id),
        _finite(result.started_at, "started_at", index, check_id),
        duration,
        outcome,
        int(bool(result.degraded)),
        str(result.message),
        dump_json(dict(result.timings)),
        dump_json(dict(result.details)),
    )


def result_from_row(check_id: str, row: Sequence[Any]) -> StoredResult:
    """A result from RESULT_COLUMNS values."""
    return StoredResult(
        id=row[0],
        result=Result(
            check_id=check_id,
            scheduled_at=row[1],
            started_at=row[2],
            duration=row[3],
            outcome=Outcome(row[4]),
            degraded=bool(row[5]),
            message=row[6],
            timings=_frozen(row[7]),
            details=_frozen(row[8]),
        ),
    )


def rollup_values(check_pk: int, row: RollupRow) -> tuple[Any, ...]:
    return (
        check_pk,
        row.start,
        row.count,
        row.ok_count,
        row.degraded_count,
        row.duration_min,
        row.duration_max,
        row.duration_sum,
        row.duration_p95,
        row.histogram.to_json(),
    )


def rollup_from_row(row: Sequence[Any]) -> RollupRow:
    """A rollup from ROLLUP_COLUMNS values."""
    return RollupRow(
        start=row[0],
        count=row[1],
        ok_count=row[2],
        degraded_count=row[3],
        duration_min=row[4],
        duration_max=row[5],
        duration_sum=row[6],
        duration_p95=row[7],
        histogram=DurationHistogram.from_json(row[8]),
    )
