"""Notices, outbox items and in-memory providers for the notify unit tests.

The providers here stand in for receivers only where the test is about the delivery engine's
own decisions (order, backoff, concurrency); the real providers meet real receivers in
tests/integration/notify.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import anyio

from nyxmon.domain.alerting.notices import CheckInfo
from nyxmon.domain.alerting.types import AlertState, Notice, NoticeKind, Route, Severity
from nyxmon.notify.records import Delivery, OutgoingMessage
from nyxmon.service_layer.records.alerts import OutboxEntry

T0 = 1_700_000_000.0


def notice(
    check_id: str = "web.home",
    kind: NoticeKind = NoticeKind.DOWN,
    *,
    seq: int = 1,
    at: float = T0,
    since: float | None = None,
    severity: Severity = Severity.CRITICAL,
    **extra: object,
) -> Notice:
    state = {
        NoticeKind.RECOVERED: AlertState.UP,
        NoticeKind.DEGRADED: AlertState.DEGRADED,
        NoticeKind.FLAPPING: AlertState.FLAPPING,
        NoticeKind.FLAPPING_ENDED: AlertState.UP,
        NoticeKind.TEST: AlertState.UP,
    }.get(kind, AlertState.DOWN)
    return Notice(
        key=f"{check_id}:1:{kind.value}:{seq}",
        check_id=check_id,
        kind=kind,
        state=state,
        previous=AlertState.UP if state is not AlertState.UP else AlertState.DOWN,
        at=at,
        since=at if since is None else since,
        severity=severity,
        **extra,  # type: ignore[arg-type]
    )


def check_info(check_id: str = "web.home") -> CheckInfo:
    service, _, name = check_id.partition(".")
    return CheckInfo(check_id=check_id, name=name, service=service, labels={"team": "core"})


def item(
    item_id: int,
    check_id: str = "web.home",
    route: str = "ops",
    *,
    created_at: float = T0,
    attempts: int = 0,
    next_attempt_at: float = 0.0,
    kind: NoticeKind = NoticeKind.DOWN,
) -> OutboxEntry:
    n = notice(check_id, kind, seq=item_id, at=created_at)
    return OutboxEntry(
        id=item_id,
        key=f"{n.key}@{route}",
        route=route,
        notice=n,
        check=check_info(check_id),
        created_at=created_at,
        attempts=attempts,
        next_attempt_at=next_attempt_at,
    )


def webhook_route(name: str = "ops", **kwargs: object) -> Route:
    return Route(name=name, kind="webhook", webhook_url="http://127.0.0.1:9/hook", **kwargs)  # type: ignore[arg-type]


class FixedRandom(random.Random):
    """``random()`` always answers ``value``: jitter becomes a known fraction of the ceiling."""

    def __init__(self, value: float) -> None:
        super().__init__(0)
        self.value = value

    def random(self) -> float:
        return self.value


@dataclass
class ScriptedProvider:
    """Answers each send from ``by_key[message.key]`` if given, else from ``script`` (in order;
    delivered once it runs out)."""

    route: Route
    script: list[Delivery | BaseException] = field(default_factory=list)
    by_key: dict[str, list[Delivery | BaseException]] = field(default_factory=dict)
    sent: list[OutgoingMessage] = field(default_factory=list)
    closed: bool = False

    async def send(self, message: OutgoingMessage) -> Delivery:
        self.sent.append(message)
        script = self.by_key.get(message.key, self.script)
        if script:
            answer = script.pop(0)
            if isinstance(answer, BaseException):
                raise answer
            return answer
        return Delivery.delivered("ok")

    async def aclose(self) -> None:
        self.closed = True

    @property
    def keys(self) -> list[str]:
        return [m.key for m in self.sent]


@dataclass
class GatedProvider:
    """Every send waits for ``gate`` (a slow or hanging receiver); counts concurrency."""

    route: Route
    gate: anyio.Event = field(default_factory=anyio.Event)
    sent: list[OutgoingMessage] = field(default_factory=list)
    active: int = 0
    max_active: int = 0
    on_enter: Callable[[], None] | None = None

    async def send(self, message: OutgoingMessage) -> Delivery:
        self.sent.append(message)
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        if self.on_enter is not None:
            self.on_enter()
        try:
            await self.gate.wait()
        finally:
            self.active -= 1
        return Delivery.delivered("finally")

    async def aclose(self) -> None:
        return None


def failures(
    n: int, *, retryable: bool = True, retry_after: float | None = None
) -> list[Delivery | BaseException]:
    return [
        Delivery.failed(f"boom {i + 1}", retryable=retryable, retry_after=retry_after)
        for i in range(n)
    ]


def ids(items: Sequence[OutboxEntry]) -> list[int]:
    return [i.id for i in items]
