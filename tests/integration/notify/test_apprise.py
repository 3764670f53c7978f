"""The Apprise provider against real receivers: e-mail to aiosmtpd, json:// and form:// to the
webhook receiver. Apprise's Telegram plugin has its API host fixed (``notify_url`` is
``https://api.telegram.org/bot``, no URL option moves it), so it cannot be pointed at a local
Telegram-shaped endpoint; json:// and form:// stand in for the HTTP-based services."""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import pytest
from tests.integration.notify.helpers import Outcomes, delivering, outbox, outbox_item
from tests.servers.smtp_receiver import SmtpReceiver
from tests.servers.webhook_receiver import WebhookReceiver

from nyxmon.domain.alerting.types import Route
from nyxmon.notify.apprise_provider import AppriseProvider
from nyxmon.notify.records import Delivered, OutgoingMessage
from nyxmon.notify.templates import MessageRenderer
from nyxmon.runtime import OffloadPool

RENDERER = MessageRenderer("http://mon.test")


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    with SmtpReceiver(username="nyx", password="mon") as server:
        yield server


def mail_url(smtp: SmtpReceiver, password: str = "mon") -> str:
    # mailto:// is plain SMTP (no TLS); mailtos:// would be STARTTLS/SSL.
    return (
        f"mailto://nyx:{password}@127.0.0.1:{smtp.port}?from=nyxmon@example.com&to=ops@example.com"
    )


def route(*urls: str) -> Route:
    return Route(name="chat", kind="apprise", urls=urls)


def message_for(r: Route, seq: int = 0, check: str = "web.home") -> OutgoingMessage:
    item = outbox_item(1, check, r.name, seq)
    return RENDERER.render(item.notice, item.check, r, item.key)


@pytest.mark.anyio
async def test_an_email_reaches_the_smtp_server_with_title_as_subject(
    smtp: SmtpReceiver, pool: OffloadPool
) -> None:
    provider = AppriseProvider(route(mail_url(smtp)), pool)
    message = message_for(provider.route)
    delivery = await provider.send(message)
    assert delivery.ok, delivery
    assert "mailto://nyx:****@127.0.0.1" in delivery.answer  # the password never shows
    [mail] = await anyio.to_thread.run_sync(smtp.wait_for, 1)
    assert mail.sender == "nyxmon@example.com"
    assert mail.recipients == ("ops@example.com",)
    assert mail.subject == "DOWN: web / home"
    assert "web / home is DOWN since" in mail.text()
    assert "http://mon.test/checks/web.home" in mail.text()
    assert smtp.logins == ["nyx"]
    assert pool.statistics().completed == 1  # sent from a pool worker, not the loop


@pytest.mark.anyio
async def test_a_wrong_smtp_password_fails_with_the_servers_reason(
    smtp: SmtpReceiver, pool: OffloadPool
) -> None:
    provider = AppriseProvider(route(mail_url(smtp, password="nope")), pool)
    delivery = await provider.send(message_for(provider.route))
    assert not delivery.ok
    assert delivery.retryable
    assert "535" in delivery.answer
    assert "Authentication credentials invalid" in delivery.answer
    assert "nope" not in delivery.answer
    assert "nope" not in delivery.error
    assert smtp.messages == []


@pytest.mark.parametrize("scheme", ["json", "form"])
@pytest.mark.anyio
async def test_json_and_form_urls_post_title_body_and_type(
    scheme: str, receiver: WebhookReceiver, pool: OffloadPool
) -> None:
    receiver.state.secret = None  # Apprise does not sign
    url = receiver.url("/apprise").replace("http://", f"{scheme}://")
    provider = AppriseProvider(route(url), pool)
    message = message_for(provider.route)
    delivery = await provider.send(message)
    assert delivery.ok, delivery
    [doc] = receiver.state.accepted
    assert doc["title"] == message.title
    assert doc["message"] == message.body
    assert doc["type"] == "failure"  # a DOWN notice
    assert receiver.state.requests[0].path == "/apprise"


@pytest.mark.anyio
async def test_a_failing_http_service_reports_apprises_reason(
    receiver: WebhookReceiver, pool: OffloadPool
) -> None:
    receiver.state.fail_status = 500
    provider = AppriseProvider(route(receiver.url().replace("http://", "json://")), pool)
    delivery = await provider.send(message_for(provider.route))
    assert not delivery.ok
    assert delivery.retryable
    assert "error=500" in delivery.answer
    assert "receiver says 500" in delivery.answer  # the response body Apprise logged


@pytest.mark.anyio
async def test_a_retry_skips_the_urls_that_already_took_the_message(
    receiver: WebhookReceiver, smtp: SmtpReceiver, pool: OffloadPool
) -> None:
    receiver.state.secret = None
    receiver.state.fail_status = 503
    provider = AppriseProvider(
        route(mail_url(smtp), receiver.url().replace("http://", "json://")), pool
    )
    message = message_for(provider.route)
    first = await provider.send(message)
    assert not first.ok
    assert first.error.startswith("1 of 2 Apprise URL(s) failed")
    receiver.state.fail_status = None
    second = await provider.send(message)
    assert second.ok, second
    assert "delivered earlier" in second.answer
    assert len(smtp.messages) == 1  # not mailed twice
    assert len(receiver.state.accepted) == 1


@pytest.mark.anyio
async def test_concurrent_sends_report_only_their_own_failures(
    receiver: WebhookReceiver, pool: OffloadPool
) -> None:
    receiver.state.secret = None
    good = AppriseProvider(route(receiver.url().replace("http://", "json://")), pool)
    refused = AppriseProvider(route("json://127.0.0.1:1/nowhere"), pool)
    results: dict[str, object] = {}

    async def send(name: str, provider: AppriseProvider) -> None:
        results[name] = await provider.send(message_for(provider.route))

    async with anyio.create_task_group() as tg:
        for n in range(4):
            tg.start_soon(send, f"good{n}", good)
            tg.start_soon(send, f"bad{n}", refused)
    for name, delivery in results.items():
        if name.startswith("good"):
            assert delivery.ok, (name, delivery)  # type: ignore[attr-defined]
        else:
            assert "Connection error" in delivery.answer  # type: ignore[attr-defined]
            assert "error=500" not in delivery.answer  # type: ignore[attr-defined]


@pytest.mark.anyio
async def test_the_deliverer_mails_each_checks_notices_in_order(
    smtp: SmtpReceiver, pool: OffloadPool
) -> None:
    items = outbox(["web.home", "db.main"], "chat", per_check=3)
    outcomes = Outcomes()
    with anyio.fail_after(30):
        async with delivering(
            {"chat": AppriseProvider(route(mail_url(smtp)), pool)}, outcomes
        ) as d:
            d.submit(items)
            await d.wait_idle()
    assert all(isinstance(o, Delivered) for _, o in outcomes.seen)
    mails = smtp.messages
    assert len(mails) == 6
    for check in ("web / home", "db / main"):
        subjects = [m.subject.split(":")[0] for m in mails if check in m.subject]
        assert subjects == ["DOWN", "STILL DOWN", "RECOVERED"]
