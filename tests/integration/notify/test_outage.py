"""Delivery through outages, against real receivers: nothing lost, nothing doubled, in order."""

from __future__ import annotations

import anyio
import pytest
from tests.integration.notify.conftest import SECRET
from tests.integration.notify.helpers import Outcomes, delivering, outbox
from tests.servers.webhook_receiver import (
    ReceiverState,
    WebhookReceiver,
    serve_webhook_receiver,
)

from nyxmon.domain.alerting.types import Route
from nyxmon.notify.records import Delivered, RetryAt
from nyxmon.notify.webhook import WebhookProvider

CHECKS = ["web.home", "web.api", "db.main", "dns.mx"]


def provider_for(url: str, name: str = "hook") -> WebhookProvider:
    return WebhookProvider(Route(name=name, kind="webhook", webhook_url=url, secret=SECRET))


def assert_exactly_once_in_order(
    state: ReceiverState, items_by_check: dict[str, list[str]]
) -> None:
    for check, keys in items_by_check.items():
        assert [doc["key"] for doc in state.accepted_for(check)] == keys, check
    assert len(state.accepted) == sum(len(k) for k in items_by_check.values())


@pytest.mark.anyio
async def test_a_receiver_failing_with_500s_then_recovering_gets_everything_once_in_order(
    receiver: WebhookReceiver,
) -> None:
    items = outbox(CHECKS, "hook", per_check=5)
    expected = {c: [i.key for i in items if i.check_id == c] for c in CHECKS}
    outcomes = Outcomes()
    receiver.state.fail_status = 500
    with anyio.fail_after(30):
        async with delivering({"hook": provider_for(receiver.url())}, outcomes) as deliverer:
            deliverer.submit(items)
            await receiver.state.wait_for(lambda s: len(s.requests) >= 3 * len(CHECKS))
            assert receiver.state.accepted == []  # down: nothing got through
            receiver.state.fail_status = None
            await deliverer.wait_idle()
    assert_exactly_once_in_order(receiver.state, expected)
    assert sum(isinstance(o, RetryAt) for _, o in outcomes.seen) >= 3 * len(CHECKS)
    assert sorted(i.id for i, o in outcomes.seen if isinstance(o, Delivered)) == [
        i.id for i in items
    ]


@pytest.mark.anyio
async def test_lost_answers_make_duplicates_the_receiver_drops_by_key(
    receiver: WebhookReceiver,
) -> None:
    items = outbox(CHECKS, "hook", per_check=3)
    expected = {c: [i.key for i in items if i.check_id == c] for c in CHECKS}
    receiver.state.lose_answers = 6  # took it, but the sender never heard
    with anyio.fail_after(30):
        async with delivering({"hook": provider_for(receiver.url())}, Outcomes()) as deliverer:
            deliverer.submit(items)
            await deliverer.wait_idle()
    assert_exactly_once_in_order(receiver.state, expected)
    assert sum(receiver.state.duplicates.values()) == 6


@pytest.mark.anyio
async def test_a_receiver_that_is_gone_then_restarted_on_its_port_gets_everything_once() -> None:
    state = ReceiverState(secret=SECRET)
    items = outbox(CHECKS, "hook", per_check=4)
    expected = {c: [i.key for i in items if i.check_id == c] for c in CHECKS}
    outcomes = Outcomes()
    async with serve_webhook_receiver(state=state) as first:
        url, port = first.url(), first.port
    with anyio.fail_after(30):
        async with delivering({"hook": provider_for(url)}, outcomes) as deliverer:
            deliverer.submit(items)
            while sum(isinstance(o, RetryAt) for _, o in outcomes.seen) < 2 * len(CHECKS):  # noqa: ASYNC110 - waits for real refusals, no event to wait on
                await anyio.sleep(0.01)
            refused = [o for _, o in outcomes.seen if isinstance(o, RetryAt)]
            assert all("cannot reach" in o.error for o in refused)
            async with serve_webhook_receiver(state=state, port=port):
                await deliverer.wait_idle()
    assert_exactly_once_in_order(state, expected)


@pytest.mark.anyio
async def test_a_slow_receiver_does_not_delay_another_route(receiver: WebhookReceiver) -> None:
    async with serve_webhook_receiver(secret=SECRET) as slow:
        slow.state.hold = True
        providers = {
            "slow": provider_for(slow.url(), "slow"),
            "fast": provider_for(receiver.url(), "fast"),
        }
        slow_items = outbox(CHECKS, "slow", per_check=2, first_id=1)
        fast_items = outbox(CHECKS, "fast", per_check=2, first_id=100)
        with anyio.fail_after(30):
            async with delivering(providers, Outcomes(), per_route=2) as deliverer:
                deliverer.submit(slow_items)
                deliverer.submit(fast_items)
                await receiver.state.wait_for(lambda s: len(s.accepted) == len(fast_items))
                await slow.state.wait_for(lambda s: s.held == 2)
                assert slow.state.accepted == []  # still stuck, yet the fast route is done
                slow.state.hold = False
                slow.state.release.set()
                await deliverer.wait_idle()
        assert len(slow.state.accepted) == len(slow_items)
