"""A notice on its way out: what it says about its check, its idempotency key, and its
plain-data form.

A notice travels from the state machine to the outbox row and on to a provider inside one
process as a :class:`~nyxmon.domain.alerting.types.Notice` object; only the store turns it into
data (:func:`notice_to_dict`) and back (:func:`notice_from_dict`), once each way. The check's
name, service and labels travel with it (:class:`CheckInfo`), so a check deleted before its
notification leaves still gets a readable message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from nyxmon.domain.alerting.types import AlertState, Notice, NoticeKind, Severity

__all__ = ["CheckInfo", "notice_from_dict", "notice_to_dict", "notification_key"]


def _empty() -> Mapping[str, str]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class CheckInfo:
    """What a message says about the check a notice is about: ``labels`` are its effective
    labels (its service's with its own on top) and ``group`` its service's group."""

    check_id: str
    name: str = ""
    service: str = ""
    labels: Mapping[str, str] = field(default_factory=_empty)
    group: str = ""

    @property
    def display_name(self) -> str:
        """``service / name``, or the check id when the names are unknown."""
        if self.service and self.name:
            return f"{self.service} / {self.name}"
        return self.name or self.check_id


def notification_key(notice: Notice, route: str) -> str:
    """The idempotency key of ``notice`` sent to ``route``: stable across restarts and retries.

    One notice going to two routes makes two notifications; two routes may share a receiver,
    so the route is part of the key.
    """
    return f"{notice.key}@{route}"


def notice_to_dict(notice: Notice, check: CheckInfo) -> dict[str, Any]:
    """A notice and its check as JSON-safe data (the outbox row's payload)."""
    return {
        "key": notice.key,
        "check_id": notice.check_id,
        "kind": notice.kind.value,
        "state": notice.state.value,
        "previous": notice.previous.value,
        "at": notice.at,
        "since": notice.since,
        "severity": notice.severity.value,
        "message": notice.message,
        "failing": list(notice.failing),
        "duration": notice.duration,
        "routes": list(notice.routes),
        "details": dict(notice.details),
        "check": {
            "name": check.name,
            "service": check.service,
            "group": check.group,
            "labels": dict(check.labels),
        },
    }


def notice_from_dict(data: object) -> tuple[Notice, CheckInfo]:
    """The inverse of :func:`notice_to_dict`; raises ``ValueError`` naming the bad field."""
    if not isinstance(data, Mapping):
        raise ValueError("a notice must be a JSON object")
    try:
        notice = Notice(
            key=str(data["key"]),
            check_id=str(data["check_id"]),
            kind=NoticeKind(data["kind"]),
            state=AlertState(data["state"]),
            previous=AlertState(data["previous"]),
            at=float(data["at"]),
            since=float(data["since"]),
            severity=Severity(data["severity"]),
            message=str(data.get("message", "")),
            failing=tuple(str(f) for f in data.get("failing", ())),
            duration=None if data.get("duration") is None else float(data["duration"]),
            routes=tuple(str(r) for r in data.get("routes", ())),
            details=MappingProxyType(dict(data.get("details") or {})),
        )
        raw = data.get("check") or {}
        check = CheckInfo(
            check_id=notice.check_id,
            name=str(raw.get("name", "")),
            service=str(raw.get("service", "")),
            labels=MappingProxyType({str(k): str(v) for k, v in (raw.get("labels") or {}).items()}),
            group=str(raw.get("group", "")),
        )
    except KeyError as exc:
        raise ValueError(f"the notice lacks the field {exc.args[0]!r}") from exc
    except (TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"the notice has a bad value: {exc}") from exc
    return notice, check
