"""Metrics of notification delivery: the events the deliverer emits and their instruments.

The deliverer emits one :class:`NotificationAttempt` per attempt, one :class:`NotificationDelivered`
per delivered notification and a ``notifications_pending`` gauge; the agent sets the
``notify_outbox_backlog`` gauge from the store (``SetGauge("notify_outbox_backlog", n)``).
Register them once with :func:`register_notify_metrics`.
"""

from __future__ import annotations

from typing import NamedTuple

from nyxmon.metrics import Counter, Gauge, Histogram, Metric, Recorder

__all__ = [
    "BACKLOG_METRIC",
    "PENDING_METRIC",
    "NotificationAttempt",
    "NotificationDelivered",
    "notify_metrics",
    "register_notify_metrics",
]

BACKLOG_METRIC = "notify_outbox_backlog"
PENDING_METRIC = "notifications_pending"

_ATTEMPT_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_DELAY_BUCKETS = (0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0, 4 * 3600.0, 86400.0)


class NotificationAttempt(NamedTuple):
    """One delivery attempt: ``outcome`` is ``delivered``, ``retry`` or ``gave_up``."""

    route: str
    outcome: str
    seconds: float


class NotificationDelivered(NamedTuple):
    """A notification arrived, ``delay`` seconds after it was written to the outbox."""

    route: str
    delay: float


def notify_metrics() -> list[Metric]:
    """Fresh instruments for the delivery events."""
    return [
        Counter(
            "notifications_sent_total",
            "notification attempts by route and outcome (delivered, retry, gave_up)",
            on=NotificationAttempt,
            labels=("route", "outcome"),
        ),
        Histogram(
            "notification_attempt_seconds",
            "how long one delivery attempt took",
            on=NotificationAttempt,
            value="seconds",
            labels=("route",),
            buckets=_ATTEMPT_BUCKETS,
        ),
        Histogram(
            "notification_delivery_delay_seconds",
            "from the outbox write to delivery, retries included",
            on=NotificationDelivered,
            value="delay",
            labels=("route",),
            buckets=_DELAY_BUCKETS,
        ),
        Gauge(PENDING_METRIC, "notifications the deliverer holds (waiting or being sent)"),
        Gauge(BACKLOG_METRIC, "undelivered rows in the notification outbox"),
    ]


def register_notify_metrics(recorder: Recorder) -> list[Metric]:
    """Register :func:`notify_metrics` on ``recorder`` and return them."""
    return [recorder.register_metric(metric) for metric in notify_metrics()]
