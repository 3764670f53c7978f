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
from nyxmon.store.packing import PackedRow, join_template, quantize_timings

__all__ = [
    "CHECKS_JOINED",
    "CHECK_COLUMNS",
    "CHECK_FIELD_COUNT",
    "CHECK_READ_COLUMNS",
    "CHECK_SOURCE_INDEX",
    "OUTCOMES_BY_CODE",
    "OUTCOME_CODES",
    "RESULT_COLUMNS",
    "RESULT_INSERT_COLUMNS",
    "ROLLUP_COLUMNS",
    "SERVICE_COLUMNS",
    "check_from_row",
    "check_values",
    "dump_json",
    "result_from_packed",
    "result_from_row",
    "result_values",
    "rollup_from_row",
    "rollup_values",
    "service_from_row",
    "service_values",
    "timings_text",
    "to_ms",
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
    "locations",
    "quorum",
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
    "r.id, r.started_ms, r.lag_ms, r.duration_us, r.outcome, r.degraded, r.message, "
    "r.timings, r.details"
)
#: The columns :func:`result_values` fills, in its order.
RESULT_INSERT_COLUMNS = (
    "check_pk, started_ms, lag_ms, duration_us, outcome, degraded, message, timings, details"
)
ROLLUP_COLUMNS = (
    "start, count, ok_count, degraded_count, duration_min, duration_max, duration_sum, "
    "duration_p95, histogram"
)


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
        dump_json(list(check.locations)),
        check.quorum,
    )


def check_from_row(row: Sequence[Any], shared: dict[str, Mapping[str, Any]] | None = None) -> Check:
    """The check of a :data:`CHECK_READ_COLUMNS` row (a check without a service row inherits
    nothing).

    ``shared`` (one dict for all the rows of one read) makes checks with the same params text
    share one read-only mapping: thousands of checks often differ only in name (the same
    port on many hosts, a dozen URLs checked many ways), and each params mapping of about 18
    keys costs ~1 KB. The dict lives only as long as the read, so distinct params cost nothing
    more."""
    params_text = row[6]
    params = shared.get(params_text) if shared is not None else None
    if params is None:
        params = _frozen(params_text)
        if shared is not None:
            shared[params_text] = params
    return Check(
        id=row[0],
        service=sys.intern(row[1]),
        name=row[2],
        type=sys.intern(row[3]),
        interval=row[4],
        timeout=row[5],
        params=params,
        conditions=tuple(json.loads(row[7])),
        enabled=bool(row[8]),
        paused=bool(row[9]),
        labels=_frozen(row[10]),
        source=CheckSource(row[11]),
        alert=_frozen(row[12]),
        locations=tuple(json.loads(row[13])),
        quorum=row[14],
        service_labels=_service_labels(row[15] or "{}"),
        group=row[16] or "",
    )


#: Times and durations beyond this many seconds (some 30,000 years) are refused: they could
#: not be stored as 64-bit integers of milliseconds and microseconds.
_LIMIT = 1e12


def _finite(value: float, field: str, index: int, check_id: str) -> float:
    number = float(value)
    if not math.isfinite(number) or abs(number) >= _LIMIT:
        raise StoreError(f"result {index} of the batch (check {check_id!r}): {field} is {value!r}")
    return number


#: Outcomes as the small integers results are stored with (their order is the domain's).
OUTCOME_CODES: Mapping[str, int] = MappingProxyType({o.value: i for i, o in enumerate(Outcome)})
OUTCOMES_BY_CODE: tuple[Outcome, ...] = tuple(Outcome)


def to_ms(seconds: float) -> int:
    """POSIX seconds as the integer milliseconds results are stored with."""
    return round(seconds * 1000)


def timings_text(timings: Mapping[str, Any]) -> str:
    """Timings as stored: whole microseconds (kept as seconds in the text), so a result reads
    back the same before and after its hour is packed; others as they are."""
    micros = quantize_timings(timings)
    if micros is None:
        return dump_json(dict(timings))
    return dump_json({key: value / 1_000_000 for key, value in micros.items()})


def result_values(check_pk: int, result: Result, index: int) -> tuple[Any, ...]:
    """Insert values for one result (RESULT_INSERT_COLUMNS order); StoreError naming the row
    and field if it is invalid."""
    check_id = result.check_id
    duration = _finite(result.duration, "duration", index, check_id)
    if duration < 0:
        raise StoreError(
            f"result {index} of the batch (check {check_id!r}): duration {duration!r} is negative"
        )
    outcome = str(getattr(result.outcome, "value", result.outcome))
    code = OUTCOME_CODES.get(outcome)
    if code is None:
        raise StoreError(
            f"result {index} of the batch (check {check_id!r}): outcome {outcome!r} is not one "
            f"of {', '.join(sorted(OUTCOME_CODES))}"
        )
    started_ms = to_ms(_finite(result.started_at, "started_at", index, check_id))
    scheduled_ms = to_ms(_finite(result.scheduled_at, "scheduled_at", index, check_id))
    return (
        check_pk,
        started_ms,
        started_ms - scheduled_ms,
        round(duration * 1_000_000),
        code,
        int(bool(result.degraded)),
        str(result.message),
        timings_text(result.timings),
        dump_json(dict(result.details)),
    )


def result_from_row(check_id: str, row: Sequence[Any]) -> StoredResult:
    """A result from RESULT_COLUMNS values."""
    started_ms = row[1]
    return StoredResult(
        id=row[0],
        result=Result(
            check_id=check_id,
            scheduled_at=(started_ms - row[2]) / 1000,
            started_at=started_ms / 1000,
            duration=row[3] / 1_000_000,
            outcome=OUTCOMES_BY_CODE[row[4]],
            degraded=bool(row[5]),
            message=row[6],
            timings=_frozen(row[7]),
            details=_frozen(row[8]),
        ),
    )


def result_from_packed(check_id: str, row: PackedRow, template: str) -> StoredResult:
    """A result from a block's row and the text of its template."""
    message, timings, details = join_template(template, row.numbers)
    return StoredResult(
        id=row.id,
        result=Result(
            check_id=check_id,
            scheduled_at=(row.started_ms - row.lag_ms) / 1000,
            started_at=row.started_ms / 1000,
            duration=row.duration_us / 1_000_000,
            outcome=OUTCOMES_BY_CODE[row.status & 3],
            degraded=bool(row.status >> 2),
            message=message,
            timings=timings,
            details=details,
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
