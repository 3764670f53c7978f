"""Everything an alert state machine needs to resume after a restart, as a frozen record.

The store keeps ``snapshot.to_dict()`` as JSON next to the check's live state, written in the
same transaction as the notices it accounts for; ``AlertMachine(..., snapshot=...)`` picks up
exactly where it stopped: the same state, counters and flap history, the same incident and
notice sequence (so notice keys never repeat), and what was last announced (so a check that
was DOWN before the restart does not send DOWN again).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from nyxmon.domain.alerting.types import AlertState, NoticeKind
from nyxmon.errors import SnapshotError

__all__ = ["SNAPSHOT_VERSION", "MachineSnapshot", "SnapshotError"]

SNAPSHOT_VERSION = 1


@dataclass(frozen=True, slots=True)
class MachineSnapshot:
    """The state of one :class:`~nyxmon.domain.alerting.machine.AlertMachine`."""

    check_id: str
    state: AlertState = AlertState.PENDING
    since: float | None = None
    # The threshold verdict and its counters (see thresholds.py).
    health: AlertState = AlertState.PENDING
    health_since: float | None = None
    consecutive_ok: int = 0
    consecutive_fast: int = 0
    consecutive_slow: int = 0
    consecutive_failures: int = 0
    retries_used: int = 0
    ok_start: float | None = None
    fast_start: float | None = None
    slow_start: float | None = None
    fail_start: float | None = None
    # Flap detection: the last results as o/d/f codes, oldest first.
    history: str = ""
    flapping: bool = False
    # Overlays.
    maintenance: bool = False
    paused: bool = False
    # What people were told, and the incident it belongs to.
    announced: AlertState | None = None
    announced_since: float | None = None
    announced_at: float | None = None
    flap_announced: bool = False
    incident: int = 0
    incident_open: bool = False
    reminders_sent: int = 0
    last_alert_at: float | None = None
    escalated: bool = False
    sequence: int = 0
    last_kind: NoticeKind | None = None
    last_message: str = ""
    last_failing: tuple[str, ...] = ()
    version: int = SNAPSHOT_VERSION

    def __post_init__(self) -> None:
        if self.health not in _VERDICTS:
            raise SnapshotError(f"health: {self.health} is not a threshold verdict")
        if self.announced is not None and self.announced not in _ANNOUNCEABLE:
            raise SnapshotError(f"announced: {self.announced} is never announced")
        if set(self.history) - set("odf"):
            raise SnapshotError(f"history: expected only o, d and f, got {self.history!r}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe data (str, int, float, bool, None, lists)."""
        # Not dataclasses.asdict: its deep copy cost 60 us a snapshot, and the agent saves
        # thousands of them on the dispatcher thread.
        data = {name: getattr(self, name) for name in _FIELD_NAMES}
        data["last_failing"] = list(self.last_failing)
        for key in ("state", "health", "announced", "last_kind"):
            value = data[key]
            data[key] = None if value is None else str(value)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MachineSnapshot:
        """The snapshot ``to_dict`` gave; raises :class:`SnapshotError` naming a bad field.

        Unknown keys are ignored and missing ones take their defaults, so a snapshot written by
        an older release still loads.
        """
        if not isinstance(data, Mapping):
            raise SnapshotError(f"expected a mapping, got {type(data).__name__}")
        version = data.get("version", SNAPSHOT_VERSION)
        if version != SNAPSHOT_VERSION:
            raise SnapshotError(f"version: expected {SNAPSHOT_VERSION}, got {version!r}")
        values: dict[str, Any] = {}
        for spec in fields(cls):
            if spec.name not in data:
                continue
            values[spec.name] = _convert(spec.name, data[spec.name])
        if "check_id" not in values:
            raise SnapshotError("check_id: missing")
        return cls(**values)


_VERDICTS = frozenset({AlertState.PENDING, AlertState.UP, AlertState.DEGRADED, AlertState.DOWN})
_ANNOUNCEABLE = frozenset({AlertState.UP, AlertState.DEGRADED, AlertState.DOWN})
_STATE_FIELDS = frozenset({"state", "health", "announced"})
_OPTIONAL = frozenset({"announced", "last_kind"})
_BOOL_FIELDS = frozenset(
    {"flapping", "maintenance", "paused", "flap_announced", "incident_open", "escalated"}
)
_INT_FIELDS = frozenset(
    {
        "consecutive_ok",
        "consecutive_fast",
        "consecutive_slow",
        "consecutive_failures",
        "retries_used",
        "incident",
        "reminders_sent",
        "sequence",
        "version",
    }
)
_TIME_FIELDS = frozenset(
    {
        "since",
        "health_since",
        "ok_start",
        "fast_start",
        "slow_start",
        "fail_start",
        "announced_since",
        "announced_at",
        "last_alert_at",
    }
)


def _convert(name: str, value: Any) -> Any:
    if value is None and (name in _OPTIONAL or name in _TIME_FIELDS):
        return None
    try:
        if name in _STATE_FIELDS:
            return AlertState(value)
        if name == "last_kind":
            return NoticeKind(value)
    except ValueError:
        raise SnapshotError(f"{name}: unknown value {value!r}") from None
    if name in _BOOL_FIELDS:
        if not isinstance(value, bool):
            raise SnapshotError(f"{name}: expected true or false, got {value!r}")
        return value
    if name in _INT_FIELDS:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise SnapshotError(f"{name}: expected a whole number of at least 0, got {value!r}")
        return value
    if name in _TIME_FIELDS:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SnapshotError(f"{name}: expected a time in seconds, got {value!r}")
        if not math.isfinite(value):
            raise SnapshotError(f"{name}: expected a finite time, got {value!r}")
        return float(value)
    if name == "last_failing":
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise SnapshotError(f"{name}: expected a list of strings, got {value!r}")
        return tuple(value)
    if not isinstance(value, str):
        raise SnapshotError(f"{name}: expected a string, got {value!r}")
    return value


_FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in fields(MachineSnapshot))
