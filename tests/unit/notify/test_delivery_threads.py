"""Handing items to the deliverer from other threads, on a real asyncio loop."""

from __future__ import annotations

import threading

import anyio
import anyio.to_thread
import pytest

from nyxmon.notify.delivery import Deliverer
from nyxmon.notify.records import Delivered, DeliveryOutcome
from nyxmon.notify.templates import MessageRenderer
from nyxmon.service_layer.records.alerts import OutboxEntry
from tests.unit.notify.fakes import ScriptedProvider, item, webhook_route


@pytest.mark.anyio
async def test_items_submitted_from_other_threads_are_all_delivered_in_order_per_check() -> None:
    ops = ScriptedProvider(webhook_route("ops"))
    outcomes: list[tuple[int, DeliveryOutcome]] = []
    threads_seen: set[int] = set()

    def record(done: OutboxEntry, outcome: DeliveryOutcome) -> None:
        threads_seen.add(threading.get_ident())
        outcomes.append((done.id, outcome))

    deliverer = Deliverer({"ops": ops}, MessageRenderer("http://mon"), record)

    def producer(check: str, first: int) -> None:
        for n in range(first, first + 20):
            deliverer.submit_threadsafe([item(n, check)])

    async with anyio.create_task_group() as tg:
        await tg.start(deliverer.run)
        async with anyio.create_task_group() as producers:
            producers.start_soon(anyio.to_thread.run_sync, producer, "a.one", 1)
            producers.start_soon(anyio.to_thread.run_sync, producer, "b.two", 101)
        await deliverer.wait_idle()
        await deliverer.stop()
    assert all(isinstance(o, Delivered) for _, o in outcomes)
    done = [i for i, _ in outcomes]
    assert [i for i in done if i < 100] == list(range(1, 21))
    assert [i for i in done if i > 100] == list(range(101, 121))
    assert threads_seen == {threading.get_ident()}  # callbacks run on the loop's thread


@pytest.mark.anyio
async def test_items_handed_over_before_run_starts_are_taken_when_it_does() -> None:
    ops = ScriptedProvider(webhook_route("ops"))
    outcomes: list[int] = []
    deliverer = Deliverer(
        {"ops": ops}, MessageRenderer("http://mon"), lambda i, o: outcomes.append(i.id)
    )
    await anyio.to_thread.run_sync(deliverer.submit_threadsafe, [item(1), item(2)])
    async with anyio.create_task_group() as tg:
        await tg.start(deliverer.run)
        await deliverer.wait_idle()
        await deliverer.stop()
    assert outcomes == [1, 2]
