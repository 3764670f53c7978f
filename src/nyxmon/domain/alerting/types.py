"""The vocabulary of alerting, shared by state machine, config, outbox and notifiers.

Plain frozen values and enums; the logic lives in :mod:`.machine` (per-check state machine) and
:mod:`.maintenance` (windows).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

__all__ = [
    "AlertPolicy",
    "AlertState",
    "Notice",
    "NoticeKind",
    "Route",
    "RouteMatch",
    "Severity",
    "TelegramTarget",
]


def _empty() -> Mapping[str, str]:
    return MappingProxyType({})


class AlertState(StrEnum):
    """What NyxMon believes about a check, after thresholds, retries and flap detection."""

    PENDING = "pending"  # no verdict yet (new check, or not enough results)
    UP = "up"
    DEGRADED = "degraded"  # passing but slow, or partially failing
    DOWN = "down"
    FLAPPING = "flapping"  # changing state too often to alert on each change
    MAINTENANCE = "maintenance"  # inside a maintenance window: results kept, no alerts
    PAUSED = "paused"


class NoticeKind(StrEnum):
    """Why a notification is sent."""

    DOWN = "down"
    RECOVERED = "recovered"  # back up after down (carries the outage's duration)
    DEGRADED = "degraded"
    FLAPPING = "flapping"
    FLAPPING_ENDED = "flapping_ended"
    REMINDER = "reminder"  # still down
    ESCALATION = "escalation"  # down for longer than the policy allows: second route
    TEST = "test"  # `nyxmon notify test`


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True, slots=True)
class AlertPolicy:
    """How one check turns results into states and notices (durations in seconds).

    ``failure_threshold`` consecutive failures (after ``retries`` quick re-runs every
    ``retry_interval``) make it DOWN; ``success_threshold`` consecutive successes bring it back.
    ``degraded_threshold`` consecutive slow passes make it DEGRADED. Flap detection looks at the
    last ``flap_window`` results, weighting recent changes more: above ``flap_high`` it is
    FLAPPING until the weighted share of changes falls below ``flap_low``. While DOWN, a
    reminder every ``remind_every`` (at most ``remind_max``); after ``escalate_after`` down, one
    ESCALATION notice to ``escalate_to`` routes.
    """

    failure_threshold: int = 2
    success_threshold: int = 2
    retries: int = 0
    retry_interval: float | None = None  # None: the check's own interval
    degraded_threshold: int = 2
    flap_window: int = 20
    flap_high: float = 0.5
    flap_low: float = 0.25
    remind_every: float | None = None
    remind_max: int = 3
    escalate_after: float | None = None
    escalate_to: tuple[str, ...] = ()
    send_on_resolved: bool = True
    notify_degraded: bool = True


@dataclass(frozen=True, slots=True)
class Notice:
    """A notification decided by a check's state machine, before routing.

    ``key`` is unique per notice and stable across restarts (check id, incident number, kind,
    sequence): the outbox's idempotency key, so a receiver can drop duplicates.
    """

    key: str
    check_id: str
    kind: NoticeKind
    state: AlertState
    previous: AlertState
    at: float
    since: float
    severity: Severity
    message: str = ""
    failing: tuple[str, ...] = ()
    duration: float | None = None  # RECOVERED: how long it was down
    routes: tuple[str, ...] = ()  # ESCALATION: the routes it goes to; empty: routing decides
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RouteMatch:
    """Which notices a route takes; empty fields match everything."""

    services: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=_empty)
    kinds: tuple[NoticeKind, ...] = ()
    min_severity: Severity = Severity.INFO


@dataclass(frozen=True, slots=True)
class TelegramTarget:
    """A Telegram chat reached through a bot: the native provider's settings.

    ``topic`` is a forum topic (the Bot API's ``message_thread_id``); ``api_url`` lets a
    self-hosted Bot API server (or a test's fake) stand in for https://api.telegram.org.
    """

    bot_token: str
    chat_id: str
    topic: int | None = None
    parse_mode: str | None = None  # "HTML" | "MarkdownV2" | None (plain text)
    api_url: str = "https://api.telegram.org"


@dataclass(frozen=True, slots=True)
class Route:
    """Where notices go: Apprise URLs (Slack, e-mail, ...), a native webhook or Telegram."""

    name: str
    kind: str  # "apprise" | "webhook" | "telegram"
    urls: tuple[str, ...] = ()  # apprise
    webhook_url: str | None = None
    headers: Mapping[str, str] = field(default_factory=_empty)
    secret: str | None = None  # webhook: HMAC-SHA256 signing key
    match: RouteMatch = field(default_factory=RouteMatch)
    default: bool = False  # takes notices no other route matched
    template: str | None = None  # Jinja2 body template; None: the default
    title_template: str | None = None
    telegram: TelegramTarget | None = None  # telegram
