"""The delivery engine on virtual time (trio's MockClock jumps ahead whenever all tasks wait)."""

from __future__ import annotations

import itertools
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest
from trio.testing import MockClock

from nyxmon.notify.backoff import RetryPolicy
from nyxmon.notify.base import Provider
from nyxmon.notify.delivery import Deliverer
from nyxmon.notify.records import Delivered, Delivery, DeliveryOutcome, GaveUp, RetryAt
from nyxmon.notify.telemetry import NotificationAttempt, NotificationDelivered
from nyxmon.notify.templates import MessageRenderer
from nyxmon.service_layer.records.alerts import OutboxEntry
from tests.unit.notify.fakes import (
    T0,
    FixedRandom,
    GatedProvider,
    ScriptedProvider,
    failures,
    item,
    webhook_route,
)


@pytest.fixture
def anyio_backend() -> tuple[str, dict[str, Any]]:
    return ("trio", {"clock": MockClock(autojump_threshold=0)})


def virtual_clock() -> float:
    return T0 + anyio.current_time()


class Sink:
    def __init__(self) -> None:
        self.events: list[object] = []

    def register_event(self, event: object, /) -> None:
        self.events.append(event)


class Harness:
    def __init__(
        self, providers: Mapping[str, Provider], *, raise_in_callback: bool = False, **kwargs: Any
    ) -> None:
        self.outcomes: list[tuple[int, DeliveryOutcome]] = []
        self.sink = Sink()
        self.raise_in_callback = raise_in_callback
        kwargs.setdefault("rng", FixedRandom(0.5))
        kwargs.setdefault("clock", virtual_clock)
        self.deliverer = Deliverer(
            providers,
            MessageRenderer("http://mon"),
            self.record,
            recorder=self.sink,
            **kwargs,
        )

    def record(self, item: OutboxEntry, outcome: DeliveryOutcome) -> None:
        self.outcomes.append((item.id, outcome))
        if self.raise_in_callback:
            raise RuntimeError("the store is on fire")

    def of(self, item_id: int) -> list[DeliveryOutcome]:
        return [o for i, o in self.outcomes if i == item_id]

    def finals(self) -> list[int]:
        return [i for i, o in self.outcomes if not isinstance(o, RetryAt)]


@asynccontextmanager
async def running(harness: Harness) -> AsyncIterator[Deliverer]:
    async with anyio.create_task_group() as tg:
        await tg.start(harness.deliverer.run)
        yield harness.deliverer
        await harness.deliverer.stop()


@pytest.mark.anyio
async def test_an_item_is_delivered_once_and_reported() -> None:
    ops = ScriptedProvider(webhook_route("ops"))
    h = Harness({"ops": ops})
    async with running(h) as d:
        assert d.submit([item(1)]) == 1
        await d.wait_idle()
    assert ops.keys == [item(1).key]
    [(item_id, outcome)] = h.outcomes
    assert item_id == 1
    assert isinstance(outcome, Delivered)
    assert outcome.attempts == 1
    assert outcome.answer == "ok"
    stats = d.statistics()
    assert (stats.pending, stats.delivered, stats.retried, stats.gave_up) == (0, 1, 0, 0)


@pytest.mark.anyio
async def test_the_message_is_rendered_for_the_route_with_the_items_key() -> None:
    ops = ScriptedProvider(webhook_route("ops", title_template="T {{ check_id }}"))
    h = Harness({"ops": ops})
    async with running(h) as d:
        d.submit([item(1)])
        await d.wait_idle()
    [message] = ops.sent
    assert message.title == "T web.home"
    assert message.key == item(1).key
    assert message.link == "http://mon/checks/web.home"


@pytest.mark.anyio
async def test_failures_back_off_exponentially_with_jitter_then_deliver() -> None:
    ops = ScriptedProvider(webhook_route("ops"), failures(4))
    h = Harness({"ops": ops}, rng=FixedRandom(0.5), policy=RetryPolicy(base=5, cap=600))
    async with running(h) as d:
        d.submit([item(1)])
        await d.wait_idle()
    outcomes = h.of(1)
    retries = [o for o in outcomes if isinstance(o, RetryAt)]
    # full jitter at one half: waits of 2.5, 5, 10 and 20 seconds after each failure
    gaps = [b.at - a.at for a, b in itertools.pairwise(retries)]
    assert retries[0].at == pytest.approx(T0 + 2.5)
    assert gaps == [pytest.approx(5.0), pytest.approx(10.0), pytest.approx(20.0)]
    assert [o.attempts for o in retries] == [1, 2, 3, 4]
    assert [o.error for o in retries] == ["boom 1", "boom 2", "boom 3", "boom 4"]
    assert isinstance(outcomes[-1], Delivered)
    assert outcomes[-1].attempts == 5
    assert outcomes[-1].at == pytest.approx(T0 + 37.5)
    assert len(ops.sent) == 5


@pytest.mark.anyio
async def test_the_cap_bounds_the_wait() -> None:
    ops = ScriptedProvider(webhook_route("ops"), failures(8))
    h = Harness({"ops": ops}, rng=FixedRandom(1.0), policy=RetryPolicy(base=5, cap=30))
    async with running(h) as d:
        d.submit([item(1)])
        await d.wait_idle()
    retries = [o for o in h.of(1) if isinstance(o, RetryAt)]
    gaps = [round(b.at - a.at, 6) for a, b in itertools.pairwise(retries)]
    assert gaps == [10.0, 20.0, 30.0, 30.0, 30.0, 30.0, 30.0]


@pytest.mark.anyio
async def test_retry_after_from_the_receiver_is_honoured() -> None:
    ops = ScriptedProvider(webhook_route("ops"), failures(1, retry_after=120.0))
    h = Harness({"ops": ops})
    async with running(h) as d:
        d.submit([item(1)])
        await d.wait_idle()
    retry, delivered = h.of(1)
    assert isinstance(retry, RetryAt)
    assert retry.at == pytest.approx(T0 + 120.0)
    assert isinstance(delivered, Delivered)
    assert delivered.at == pytest.approx(T0 + 120.0)


@pytest.mark.anyio
async def test_a_permanent_failure_gives_up_at_once() -> None:
    ops = ScriptedProvider(webhook_route("ops"), failures(1, retryable=False))
    h = Harness({"ops": ops})
    async with running(h) as d:
        d.submit([item(1)])
        await d.wait_idle()
    [outcome] = h.of(1)
    assert isinstance(outcome, GaveUp)
    assert outcome.error == "boom 1"
    assert outcome.attempts == 1
    assert d.statistics().gave_up == 1


@pytest.mark.anyio
async def test_it_gives_up_at_the_horizon_and_never_tries_past_it() -> None:
    ops = ScriptedProvider(webhook_route("ops"), failures(100))
    policy = RetryPolicy(base=5, cap=600, give_up_after=3600)
    h = Harness({"ops": ops}, rng=FixedRandom(1.0), policy=policy)
    async with running(h) as d:
        d.submit([item(1)])
        await d.wait_idle()
    *retries, last = h.of(1)
    assert all(isinstance(o, RetryAt) and o.at <= T0 + 3600 for o in retries)
    assert isinstance(last, GaveUp)
    assert last.attempts == len(ops.sent) == len(retries) + 1
    assert last.error.startswith(f"gave up after {last.attempts} attempts over ")
    assert last.error.endswith("boom " + str(last.attempts))


@pytest.mark.anyio
async def test_the_horizon_counts_from_creation_not_from_submission() -> None:
    ops = ScriptedProvider(webhook_route("ops"), failures(1))
    h = Harness({"ops": ops}, policy=RetryPolicy(give_up_after=3600))
    async with running(h) as d:
        d.submit([item(1, created_at=T0 - 3599)])  # restored from the outbox, nearly expired
        await d.wait_idle()
    [outcome] = h.of(1)
    assert isinstance(outcome, GaveUp)
    assert outcome.attempts == 1


@pytest.mark.anyio
async def test_max_attempts_limits_the_attempts() -> None:
    ops = ScriptedProvider(webhook_route("ops"), failures(10))
    h = Harness({"ops": ops}, policy=RetryPolicy(max_attempts=3))
    async with running(h) as d:
        d.submit([item(1)])
        await d.wait_idle()
    assert len(ops.sent) == 3
    assert isinstance(h.of(1)[-1], GaveUp)


@pytest.mark.anyio
async def test_items_of_one_check_leave_in_order_each_after_the_previous_one_settled() -> None:
    ops = ScriptedProvider(webhook_route("ops"), failures(3))
    h = Harness({"ops": ops})
    async with running(h) as d:
        d.submit([item(1), item(2), item(3)])
        await d.wait_idle()
    # item 1 needed four attempts; items 2 and 3 waited for it
    assert ops.keys == [item(1).key] * 4 + [item(2).key, item(3).key]
    assert h.finals() == [1, 2, 3]


@pytest.mark.anyio
async def test_items_arriving_out_of_order_still_leave_in_id_order() -> None:
    ops = ScriptedProvider(webhook_route("ops"))
    h = Harness({"ops": ops})
    d = h.deliverer
    d.submit([item(3), item(1), item(2)])  # before run(): nothing is being sent yet
    async with running(h):
        await d.wait_idle()
    assert h.finals() == [1, 2, 3]


@pytest.mark.anyio
async def test_a_given_up_item_lets_the_next_one_of_its_check_go() -> None:
    ops = ScriptedProvider(webhook_route("ops"), failures(1, retryable=False))
    h = Harness({"ops": ops})
    async with running(h) as d:
        d.submit([item(1), item(2)])
        await d.wait_idle()
    assert isinstance(h.of(1)[0], GaveUp)
    assert isinstance(h.of(2)[0], Delivered)


@pytest.mark.anyio
async def test_other_checks_do_not_wait_for_a_check_that_is_retrying() -> None:
    ops = ScriptedProvider(webhook_route("ops"), by_key={item(1, "web.home").key: failures(2)})
    h = Harness({"ops": ops})
    async with running(h) as d:
        d.submit([item(1, "web.home"), item(2, "db.main"), item(3, "web.home")])
        await d.wait_idle()
    # web.home's first item failed twice; db.main's item went out meanwhile
    assert ops.keys.index(item(2, "db.main").key) < ops.keys.index(item(3, "web.home").key)
    assert h.finals().index(2) < h.finals().index(1)
    assert h.finals().index(1) < h.finals().index(3)


@pytest.mark.anyio
async def test_a_slow_route_does_not_delay_another_route() -> None:
    slow = GatedProvider(webhook_route("slow"))
    fast = ScriptedProvider(webhook_route("fast"))
    h = Harness({"slow": slow, "fast": fast}, attempt_timeout=10_000)
    async with running(h) as d:
        d.submit([item(i, f"svc.c{i}", "slow") for i in range(1, 9)])
        d.submit([item(i, f"svc.c{i}", "fast") for i in range(11, 19)])
        while len(h.outcomes) < 8:  # noqa: ASYNC110 - simulated time, a poll is exact
            await anyio.sleep(1)
        assert sorted(h.finals()) == list(range(11, 19))  # every fast one, none of the slow
        assert slow.active == 4
        assert d.statistics().in_flight == 4
        slow.gate.set()
        await d.wait_idle()
    assert sorted(h.finals()) == list(range(1, 9)) + list(range(11, 19))


@pytest.mark.anyio
async def test_concurrency_per_route_is_bounded() -> None:
    gated = GatedProvider(webhook_route("ops"))
    h = Harness({"ops": gated}, per_route=2, attempt_timeout=10_000)
    async with running(h) as d:
        d.submit([item(i, f"svc.c{i}") for i in range(1, 7)])
        while len(gated.sent) < 2:  # noqa: ASYNC110 - simulated time, a poll is exact
            await anyio.sleep(1)
        await anyio.sleep(100)
        assert len(gated.sent) == 2
        gated.gate.set()
        await d.wait_idle()
    assert gated.max_active == 2
    assert len(h.finals()) == 6


@pytest.mark.anyio
async def test_a_hanging_provider_times_out_and_is_retried() -> None:
    gated = GatedProvider(webhook_route("ops"))
    h = Harness({"ops": gated}, attempt_timeout=30)
    async with running(h) as d:
        d.submit([item(1)])
        while not h.outcomes:  # noqa: ASYNC110 - simulated time, a poll is exact
            await anyio.sleep(1)
        gated.gate.set()
        await d.wait_idle()
    retry, delivered = h.of(1)
    assert isinstance(retry, RetryAt)
    assert retry.error == "no answer within 30 s"
    assert isinstance(delivered, Delivered)


@pytest.mark.anyio
async def test_a_provider_that_raises_is_a_retryable_failure(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ops = ScriptedProvider(webhook_route("ops"), [ValueError("bug in provider")])
    h = Harness({"ops": ops})
    with caplog.at_level(logging.ERROR):
        async with running(h) as d:
            d.submit([item(1)])
            await d.wait_idle()
    retry, delivered = h.of(1)
    assert isinstance(retry, RetryAt)
    assert "ValueError: bug in provider" in retry.error
    assert isinstance(delivered, Delivered)
    assert "provider of route 'ops' raised" in caplog.text


@pytest.mark.anyio
async def test_an_item_for_an_unknown_route_is_given_up_naming_the_known_ones() -> None:
    h = Harness({"ops": ScriptedProvider(webhook_route("ops"))})
    async with running(h) as d:
        d.submit([item(1, route="gone")])
        await d.wait_idle()
    [outcome] = h.of(1)
    assert isinstance(outcome, GaveUp)
    assert outcome.error == "route 'gone' is not configured (known routes: ops)"
    assert outcome.attempts == 0


@pytest.mark.anyio
async def test_resubmitting_a_held_item_does_not_send_it_twice() -> None:
    ops = ScriptedProvider(webhook_route("ops"), failures(1))
    h = Harness({"ops": ops})
    async with running(h) as d:
        assert d.submit([item(1)]) == 1
        assert d.submit([item(1), item(1)]) == 0
        await d.wait_idle()
    assert len(ops.sent) == 2  # one failure, one delivery
    assert len(h.finals()) == 1


@pytest.mark.anyio
async def test_a_restored_item_waits_for_its_next_attempt_time() -> None:
    ops = ScriptedProvider(webhook_route("ops"))
    h = Harness({"ops": ops})
    async with running(h) as d:
        d.submit([item(1, attempts=3, next_attempt_at=T0 + 500)])
        await anyio.sleep(499)
        assert ops.sent == []
        await d.wait_idle()
    [outcome] = h.of(1)
    assert isinstance(outcome, Delivered)
    assert outcome.attempts == 4
    assert outcome.at == pytest.approx(T0 + 500)


@pytest.mark.anyio
async def test_a_retry_waits_its_backoff_even_when_the_wall_clock_is_set_back_hours() -> None:
    """The backoff is waited on the loop's monotonic clock: setting the wall clock back three
    hours (NTP, ``date -s``) while an item waits must not make it wait three hours more."""
    jump = 0.0

    def wall_clock() -> float:
        return T0 + anyio.current_time() + jump

    ops = ScriptedProvider(webhook_route("ops"), failures(1))
    h = Harness({"ops": ops}, clock=wall_clock, policy=RetryPolicy(base=5, cap=600))
    async with running(h) as d:
        started = anyio.current_time()
        d.submit([item(1)])
        await anyio.sleep(1.0)  # the first attempt failed; the retry waits 2.5 s
        jump = -3 * 3600
        await d.wait_idle()
        waited = anyio.current_time() - started
    assert isinstance(h.of(1)[-1], Delivered)
    assert waited == pytest.approx(2.5)


@pytest.mark.anyio
async def test_a_failing_outcome_callback_does_not_stop_delivery(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ops = ScriptedProvider(webhook_route("ops"))
    h = Harness({"ops": ops}, raise_in_callback=True)
    with caplog.at_level(logging.ERROR):
        async with running(h) as d:
            d.submit([item(1), item(2)])
            await d.wait_idle()
    assert h.finals() == [1, 2]
    assert "on_outcome failed" in caplog.text


@pytest.mark.anyio
async def test_stop_lets_a_running_attempt_finish_and_keeps_waiting_items() -> None:
    gated = GatedProvider(webhook_route("ops"))
    retrying = ScriptedProvider(webhook_route("later"), failures(1))
    h = Harness({"ops": gated, "later": retrying}, attempt_timeout=10_000)
    d = h.deliverer
    async with anyio.create_task_group() as tg:
        await tg.start(d.run)
        d.submit([item(1), item(2, route="later")])
        while not (gated.sent and h.outcomes):  # noqa: ASYNC110 - simulated time, a poll is exact
            await anyio.sleep(1)
        tg.start_soon(d.stop, 60.0)
        await anyio.sleep(1)
        gated.gate.set()
    assert isinstance(h.of(1)[0], Delivered)  # finished during the grace period
    assert [type(o) for o in h.of(2)] == [RetryAt]  # never tried again, still held
    assert d.statistics().pending == 1


@pytest.mark.anyio
async def test_new_providers_take_over_after_a_reload() -> None:
    old = ScriptedProvider(webhook_route("ops"))
    new = ScriptedProvider(webhook_route("ops"))
    h = Harness({"ops": old})
    async with running(h) as d:
        d.submit([item(1)])
        await d.wait_idle()
        d.set_providers({"ops": new})
        d.submit([item(2)])
        await d.wait_idle()
    assert [m.key for m in old.sent] == [item(1).key]
    assert [m.key for m in new.sent] == [item(2).key]


@pytest.mark.anyio
async def test_attempts_and_deliveries_are_reported_as_metric_events() -> None:
    ops = ScriptedProvider(webhook_route("ops"), failures(1) + failures(1, retryable=False))
    h = Harness({"ops": ops})
    async with running(h) as d:
        d.submit([item(1), item(2), item(3)])
        await d.wait_idle()
    attempts = [e for e in h.sink.events if isinstance(e, NotificationAttempt)]
    assert [(e.route, e.outcome) for e in attempts] == [
        ("ops", "retry"),
        ("ops", "gave_up"),
        ("ops", "delivered"),
        ("ops", "delivered"),
    ]
    delivered = [e for e in h.sink.events if isinstance(e, NotificationDelivered)]
    assert len(delivered) == 2
    assert all(e.route == "ops" for e in delivered)


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="per_route"):
        Deliverer({}, MessageRenderer("http://x"), lambda i, o: None, per_route=0)
    with pytest.raises(ValueError, match="attempt_timeout"):
        Deliverer({}, MessageRenderer("http://x"), lambda i, o: None, attempt_timeout=0)


def test_delivery_outcome_types_cover_every_answer() -> None:
    assert Delivery.delivered("x").ok
    failed = Delivery.failed("e", retryable=False, answer="a", retry_after=3)
    assert (failed.ok, failed.retryable, failed.retry_after) == (False, False, 3)
