"""The records notification delivery passes around: messages, answers and outcomes.

The delivery engine sends committed outbox entries
(:class:`~nyxmon.service_layer.records.alerts.OutboxEntry`); :class:`OutgoingMessage` is what a
provider sends for one; :class:`Delivery` is the provider's answer for one attempt, and
:data:`DeliveryOutcome` (delivered / retry at / gave up) is what the engine reports back so the
agent can persist it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TypeAlias

from nyxmon.domain.alerting.notices import CheckInfo
from nyxmon.domain.alerting.types import Notice, Route
from nyxmon.domain.redaction import redact

__all__ = [
    "Delivered",
    "Delivery",
    "DeliveryOutcome",
    "GaveUp",
    "OutgoingMessage",
    "RetryAt",
    "redacted",
]


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


DeliveryOutcome: TypeAlias = Delivered | RetryAt | GaveUp


def redacted(delivery: Delivery) -> Delivery:
    """``delivery`` with every registered secret removed from what it says: providers quote
    their libraries, and libraries quote URLs (Apprise's Telegram errors hold the bot token)."""
    answer, error = redact(delivery.answer), redact(delivery.error)
    if answer == delivery.answer and error == delivery.error:
        return delivery
    return replace(delivery, answer=answer, error=error)
