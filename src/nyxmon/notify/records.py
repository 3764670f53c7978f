"""The records notification delivery passes around: outbox items, messages, outcomes.

An :class:`OutboxItem` is one notification (one notice for one route) as the store keeps it;
:class:`OutgoingMessage` is what a provider sends; :class:`Delivery` is the provider's answer
for one attempt, and :data:`Outcome` (delivered / retry at / gave up) is what the delivery
engine reports back so the agent can persist it. Notices travel through the store as JSON
(:func:`encode_payload` / :func:`decode_payload`), together with the check's name, service and
labels, so a check deleted before its notification leaves still gets a readable message.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeAlias

from nyxmon.domain.alerting.types import AlertState, Notice, NoticeKind, Route, Severity

__all__ = [
    "CheckInfo",
    "Delivered",
    "Delivery",
    "GaveUp",
    "OutboxItem",
    "Outcome",
    "OutgoingMessage",
    "RetryAt",
    "decode_payload",
    "encode_payload",
    "notification_key",
]


def _empty() -> Mapping[str, str]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class CheckInfo:
    """What a message says about the check a notice is about."""

    check_id: str
    name: str = ""
    service: str = ""
    labels: Mapping[str, str] = field(default_factory=_empty)

    @property
    def display_name(self) -> str:
        """``service / name``, or the check id when the names are unknown."""
        if self.service and self.name:
            return f"{self.service} / {self.name}"
        return self.name or self.check_id


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """One notification waiting to leave: a notice for one route, as the outbox stores it.

    ``id`` is the outbox row's id; ``key`` the idempotency key sent to the receiver
    (:func:`notification_key`). ``attempts`` counts attempts already made and
    ``next_attempt_at`` (POSIX seconds) is when the next may start; ``created_at`` starts the
    give-up horizon.
    """

    id: int
    key: str
    route: str
    notice: Notice
    check: CheckInfo
    created_at: float
    attempts: int = 0
    next_attempt_at: float = 0.0

    @property
    def check_id(self) -> str:
        return self.notice.check_id


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """A rendered notification, ready for a provider.

    ``notes`` says what went wrong while rendering (a custom template that failed and was
    replaced by the default), so the provider can pass it on instead of hiding it.
    """

    title: str
    body: str
    notice: Notice
    key: str
    route: Route
    check: CheckInfo
    link: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Delivery:
    """A provider's answer to one attempt.

    ``answer`` is what the provider said (HTTP status and body, Apprise's log lines) for the
    CLI and logs. ``retryable`` matters only when not ``ok``: a 400 will not get better, a 503
    may. ``retry_after`` is the receiver's own wish (seconds), honoured by the backoff.
    """

    ok: bool
    answer: str = ""
    error: str = ""
    retryable: bool = True
    retry_after: float | None = None

    @classmethod
    def delivered(cls, answer: str = "") -> Delivery:
        return cls(ok=True, answer=answer)

    @classmethod
    def failed(
        cls, error: str, *, retryable: bool, answer: str = "", retry_after: float | None = None
    ) -> Delivery:
        return cls(
            ok=False, answer=answer, error=error, retryable=retryable, retry_after=retry_after
        )


@dataclass(frozen=True, slots=True)
class Delivered:
    """The receiver took it: mark the outbox row delivered."""

    at: float
    attempts: int
    answer: str = ""


@dataclass(frozen=True, slots=True)
class RetryAt:
    """This attempt failed; try again at ``at`` (POSIX seconds)."""

    at: float
    attempts: int
    error: str


@dataclass(frozen=True, slots=True)
class GaveUp:
    """No more attempts: the error was permanent, or the give-up horizon passed."""

    at: float
    attempts: int
    error: str


Outcome: TypeAlias = Delivered | RetryAt | GaveUp


def notification_key(notice: Notice, route: str) -> str:
    """The idempotency key of ``notice`` sent to ``route``: stable across restarts and retries.

    One notice going to two routes makes two notifications; two routes may share a receiver,
    so the route is part of the key.
    """
    return f"{notice.key}@{route}"


def encode_payload(notice: Notice, check: CheckInfo) -> str:
    """A notice and its check as JSON text, for the outbox row."""
    data: dict[str, Any] = {
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
            "labels": dict(check.labels),
        },
    }
    return json.dumps(data, separators=(",", ":"), sort_keys=True, default=str)


def decode_payload(text: str) -> tuple[Notice, CheckInfo]:
    """The inverse of :func:`encode_payload`; raises ``ValueError`` naming the bad field."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"outbox payload is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError("outbox payload must be a JSON object")
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
        )
    except KeyError as exc:
        raise ValueError(f"outbox payload lacks the field {exc.args[0]!r}") from exc
    except (TypeError, ValueError) as exc:
        raise ValueError(f"outbox payload has a bad value: {exc}") from exc
    return notice, check
