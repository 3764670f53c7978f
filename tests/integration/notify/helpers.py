"""Building deliverers and outbox items for the integration tests."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import anyio

from nyxmon.domain.alerting.notices import CheckInfo, notification_key
from nyxmon.domain.alerting.types import AlertState, Notice, NoticeKind, Severity
from nyxmon.notify.backoff import RetryPolicy
from nyxmon.notify.base import Provider
from nyxmon.notify.delivery import Deliverer
from nyxmon.notify.records import DeliveryOutcome
from nyxmon.notify.templates import MessageRenderer
from nyxmon.service_layer.records.alerts import OutboxEntry

# Real time here: keep the backoff short so an outage of a few failed requests passes quickly.
FAST_RETRIES = RetryPolicy(base=0.02, cap=0.1, give_up_after=120.0)

_KINDS = (NoticeKind.DOWN, NoticeKind.REMINDER, NoticeKind.RECOVERED)


def outbox_item(item_id: int, check_id: str, route: str, seq: int) -> OutboxEntry:
    """The ``seq``-th notice of ``check_id`` (down, reminder, recovered, down, ...)."""
    kind = _KINDS[seq % len(_KINDS)]
    now = time.time()
    notice = Notice(
        key=f"{check_id}:{seq // 3 + 1}:{kind.value}:{seq}",
        check_id=check_id,
        kind=kind,
        state=AlertState.UP if kind is NoticeKind.RECOVERED else AlertState.DOWN,
        previous=AlertState.DOWN if kind is NoticeKind.RECOVERED else AlertState.UP,
        at=now,
        since=now - 60,
        severity=Severity.CRITICAL,
        message=f"notice {seq}",
        failing=("[STATUS] == 200 (actual 503)",),
        duration=60.0 if kind is NoticeKind.RECOVERED else None,
    )
    service, _, name = check_id.partition(".")
    return OutboxEntry(
        id=item_id,
        key=notification_key(notice, route),
        route=route,
        notice=notice,
        check=CheckInfo(check_id, name=name, service=service, labels={"team": "core"}),
        created_at=now,
    )


def outbox(checks: list[str], route: str, per_check: int, first_id: int = 1) -> list[OutboxEntry]:
    """``per_check`` items for each check, interleaved the way a busy outbox fills up."""
    items: list[OutboxEntry] = []
    next_id = first_id
    for seq in range(per_check):
        for check in checks:
            items.append(outbox_item(next_id, check, route, seq))
            next_id += 1
    return items


class Outcomes:
    def __init__(self) -> None:
        self.seen: list[tuple[OutboxEntry, DeliveryOutcome]] = []

    def __call__(self, item: OutboxEntry, outcome: DeliveryOutcome) -> None:
        self.seen.append((item, outcome))


@asynccontextmanager
async def delivering(
    providers: Mapping[str, Provider], outcomes: Outcomes, **kwargs: object
) -> AsyncIterator[Deliverer]:
    kwargs.setdefault("policy", FAST_RETRIES)
    deliverer = Deliverer(providers, MessageRenderer("http://mon.test"), outcomes, **kwargs)  # type: ignore[arg-type]
    try:
        async with anyio.create_task_group() as tg:
            await tg.start(deliverer.run)
            yield deliverer
            await deliverer.stop()
    finally:
        for provider in providers.values():
            await provider.aclose()
