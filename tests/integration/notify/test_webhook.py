"""The webhook provider against a real aiohttp receiver on 127.0.0.1."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator

import pytest
from tests.integration.notify.conftest import SECRET
from tests.integration.notify.helpers import outbox_item
from tests.servers.webhook_receiver import WebhookReceiver

from nyxmon.domain.alerting.types import Route
from nyxmon.notify.records import OutgoingMessage
from nyxmon.notify.signature import verify_signature
from nyxmon.notify.templates import MessageRenderer
from nyxmon.notify.webhook import WebhookProvider

RENDERER = MessageRenderer("http://mon.test")


def hook_route(url: str, **kwargs: object) -> Route:
    kwargs.setdefault("secret", SECRET)
    return Route(name="hook", kind="webhook", webhook_url=url, **kwargs)  # type: ignore[arg-type]


def message_for(route: Route, seq: int = 0) -> OutgoingMessage:
    item = outbox_item(1, "web.home", route.name, seq)
    return RENDERER.render(item.notice, item.check, route, item.key)


@pytest.fixture
async def provider(receiver: WebhookReceiver) -> AsyncIterator[WebhookProvider]:
    webhook = WebhookProvider(hook_route(receiver.url(), headers={"X-Team": "core"}))
    yield webhook
    await webhook.aclose()


@pytest.mark.anyio
async def test_a_notification_arrives_signed_with_its_key_and_the_documented_body(
    provider: WebhookProvider, receiver: WebhookReceiver
) -> None:
    message = message_for(provider.route)
    delivery = await provider.send(message)
    assert delivery.ok, delivery
    assert delivery.answer.startswith("HTTP 200 OK")
    [request] = receiver.state.requests
    assert request.headers["X-NyxMon-Idempotency-Key"] == message.key
    assert request.headers["X-NyxMon-Event"] == "down"
    assert request.headers["X-Team"] == "core"
    assert request.headers["Content-Type"] == "application/json"
    assert verify_signature(
        SECRET,
        request.body,
        request.headers["X-NyxMon-Timestamp"],
        request.headers["X-NyxMon-Signature"],
    )
    body = request.json()
    assert body["key"] == message.key
    assert body["check"] == {
        "id": "web.home",
        "name": "home",
        "service": "web",
        "group": "",
        "labels": {"team": "core"},
    }
    assert (body["kind"], body["state"], body["previous"]) == ("down", "down", "up")
    assert body["failing"] == ["[STATUS] == 200 (actual 503)"]
    assert body["title"] == "DOWN: web / home" == message.title
    assert body["body"] == message.body
    assert body["link"] == "http://mon.test/checks/web.home"
    assert body["elapsed_seconds"] == pytest.approx(60.0)
    assert body["version"] == 1
    assert body["test"] is False
    assert receiver.state.accepted == [body]


@pytest.mark.anyio
async def test_a_route_without_secret_sends_no_signature(receiver: WebhookReceiver) -> None:
    receiver.state.secret = None
    webhook = WebhookProvider(hook_route(receiver.url(), secret=None))
    try:
        assert (await webhook.send(message_for(webhook.route))).ok
    finally:
        await webhook.aclose()
    [request] = receiver.state.requests
    assert "X-NyxMon-Signature" not in request.headers
    assert "X-NyxMon-Timestamp" not in request.headers


@pytest.mark.anyio
async def test_a_route_header_cannot_forge_the_signature_or_key(receiver: WebhookReceiver) -> None:
    forged = {"X-NyxMon-Signature": "sha256=00", "X-NyxMon-Idempotency-Key": "mine"}
    webhook = WebhookProvider(hook_route(receiver.url(), headers=forged))
    try:
        message = message_for(webhook.route)
        assert (await webhook.send(message)).ok
    finally:
        await webhook.aclose()
    assert receiver.state.requests[0].headers["X-NyxMon-Idempotency-Key"] == message.key


@pytest.mark.anyio
async def test_a_receiver_with_another_secret_refuses_and_it_is_not_retried(
    receiver: WebhookReceiver,
) -> None:
    webhook = WebhookProvider(hook_route(receiver.url(), secret="wrong"))
    try:
        delivery = await webhook.send(message_for(webhook.route))
    finally:
        await webhook.aclose()
    assert not delivery.ok
    assert not delivery.retryable
    assert delivery.answer.startswith("HTTP 401")
    assert receiver.state.bad_signatures == 1
    assert receiver.state.accepted == []


@pytest.mark.parametrize(
    ("status", "retryable"),
    [
        pytest.param(500, True, id="500"),
        pytest.param(502, True, id="502"),
        pytest.param(503, True, id="503"),
        pytest.param(408, True, id="408"),
        pytest.param(429, True, id="429"),
        pytest.param(400, False, id="400"),
        pytest.param(404, False, id="404"),
        pytest.param(410, False, id="410"),
    ],
)
@pytest.mark.anyio
async def test_status_codes_decide_whether_a_retry_may_help(
    status: int, retryable: bool, provider: WebhookProvider, receiver: WebhookReceiver
) -> None:
    receiver.state.fail_status = status
    delivery = await provider.send(message_for(provider.route))
    assert not delivery.ok
    assert delivery.retryable is retryable
    assert delivery.answer.startswith(f"HTTP {status}")
    assert f"receiver says {status}" in delivery.answer
    assert receiver.url() in delivery.error


@pytest.mark.anyio
async def test_retry_after_is_passed_on(
    provider: WebhookProvider, receiver: WebhookReceiver
) -> None:
    receiver.state.fail_status = 503
    receiver.state.retry_after = "42"
    delivery = await provider.send(message_for(provider.route))
    assert delivery.retryable
    assert delivery.retry_after == 42.0


@pytest.mark.anyio
async def test_a_redirect_is_not_followed_and_not_retried(receiver: WebhookReceiver) -> None:
    from aiohttp import web

    app = web.Application()

    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPFound(receiver.url())

    app.router.add_post("/old", moved)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    webhook = WebhookProvider(hook_route(f"http://127.0.0.1:{port}/old"))
    try:
        delivery = await webhook.send(message_for(webhook.route))
    finally:
        await webhook.aclose()
        await runner.cleanup()
    assert not delivery.ok
    assert not delivery.retryable
    assert "point the route at the final URL" in delivery.error
    assert receiver.state.requests == []


@pytest.mark.anyio
async def test_a_refused_connection_is_retryable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nobody listens there
    webhook = WebhookProvider(hook_route(f"http://127.0.0.1:{port}/hook"))
    try:
        delivery = await webhook.send(message_for(webhook.route))
    finally:
        await webhook.aclose()
    assert not delivery.ok
    assert delivery.retryable
    assert f"cannot reach http://127.0.0.1:{port}/hook" in delivery.error


@pytest.mark.anyio
async def test_a_receiver_that_does_not_answer_in_time_is_retryable(
    receiver: WebhookReceiver,
) -> None:
    receiver.state.hold = True
    webhook = WebhookProvider(hook_route(receiver.url()), timeout=0.2)
    try:
        delivery = await webhook.send(message_for(webhook.route))
    finally:
        receiver.state.release.set()
        await webhook.aclose()
    assert not delivery.ok
    assert delivery.retryable
    assert "no answer from" in delivery.error


@pytest.mark.anyio
async def test_the_body_is_the_exact_signed_json(
    provider: WebhookProvider, receiver: WebhookReceiver
) -> None:
    await provider.send(message_for(provider.route))
    [request] = receiver.state.requests
    tampered = json.dumps(request.json()).encode()  # same data, other bytes
    assert not verify_signature(
        SECRET,
        tampered,
        request.headers["X-NyxMon-Timestamp"],
        request.headers["X-NyxMon-Signature"],
    )
