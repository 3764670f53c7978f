"""The deliverer the way the agent runs it: on the Runtime's loop, fed from other threads."""

from __future__ import annotations

import threading

import anyio
import pytest
from tests.integration.notify.conftest import SECRET
from tests.integration.notify.helpers import FAST_RETRIES, outbox
from tests.servers.webhook_receiver import ThreadedWebhookReceiver

from nyxmon.domain.alerting.types import Route
from nyxmon.notify.delivery import Deliverer
from nyxmon.notify.records import Delivered, DeliveryOutcome
from nyxmon.notify.templates import MessageRenderer
from nyxmon.notify.webhook import WebhookProvider
from nyxmon.runtime import Runtime
from nyxmon.service_layer.records.alerts import OutboxEntry

CHECKS = ["web.home", "web.api", "db.main"]


@pytest.mark.parametrize("backend", ["uvloop", "asyncio"])
def test_items_handed_over_from_a_writer_thread_are_delivered_on_the_runtime_loop(
    backend: str,
) -> None:
    outcomes: list[tuple[int, DeliveryOutcome]] = []
    callback_threads: set[str] = set()

    def on_outcome(item: OutboxEntry, outcome: DeliveryOutcome) -> None:
        callback_threads.add(threading.current_thread().name)
        outcomes.append((item.id, outcome))

    with ThreadedWebhookReceiver(secret=SECRET) as receiver:
        receiver.state.fail_next = 4  # a short outage first
        route = Route("hook", "webhook", webhook_url=receiver.url(), secret=SECRET)
        provider = WebhookProvider(route)
        deliverer = Deliverer(
            {"hook": provider}, MessageRenderer("http://mon"), on_outcome, policy=FAST_RETRIES
        )
        items = outbox(CHECKS, "hook", per_check=4)
        with Runtime(backend, name="notify-runtime") as runtime:  # type: ignore[arg-type]
            task = runtime.spawn(deliverer.run)
            writer = threading.Thread(target=deliverer.submit_threadsafe, args=(items,))
            writer.start()
            writer.join()

            async def settle() -> None:
                with anyio.fail_after(30):
                    await deliverer.wait_idle()
                await deliverer.stop()
                await provider.aclose()

            runtime.call(settle, timeout=40)
            task.wait(10)
        accepted = list(receiver.state.accepted)
    assert callback_threads == {"notify-runtime"}
    assert sorted(i for i, o in outcomes if isinstance(o, Delivered)) == [i.id for i in items]
    for check in CHECKS:
        keys = [doc["key"] for doc in accepted if doc["check"]["id"] == check]
        assert keys == [i.key for i in items if i.check_id == check]
