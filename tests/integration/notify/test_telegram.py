"""The native Telegram provider against a fake Bot API server on 127.0.0.1.

The bot token must never appear in an answer, an error (stored in the outbox), a log line or
the CLI's output, whatever the server says.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from tests.integration.notify.helpers import Outcomes, delivering, outbox_item
from tests.servers.telegram_api import FakeBotApi

from nyxmon.config import ConfigValidationError, load_config_text
from nyxmon.domain.alerting.types import Route, TelegramTarget
from nyxmon.notify.records import Delivered, GaveUp, OutgoingMessage, RetryAt
from nyxmon.notify.telegram import TelegramProvider
from nyxmon.notify.templates import MessageRenderer

TOKEN = "123456789:AAHfakeTokenForTheTests_abcdefXYZ"
CHAT = "-1001234567890"
RENDERER = MessageRenderer("http://mon.test")


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    with FakeBotApi(token=TOKEN, chats={CHAT}) as server:
        yield server


def route_for(api_url: str, **kwargs: object) -> Route:
    target = TelegramTarget(
        bot_token=str(kwargs.pop("token", TOKEN)),
        chat_id=str(kwargs.pop("chat", CHAT)),
        api_url=api_url,
        **kwargs,  # type: ignore[arg-type]
    )
    return Route(name="phone", kind="telegram", telegram=target)


def message_for(route: Route, seq: int = 0) -> OutgoingMessage:
    item = outbox_item(1, "web.home", route.name, seq)
    return RENDERER.render(item.notice, item.check, route, item.key)


async def send(route: Route) -> tuple[TelegramProvider, object]:
    provider = TelegramProvider(route)
    try:
        return provider, await provider.send(message_for(route))
    finally:
        await provider.aclose()


def assert_no_token(*texts: str) -> None:
    for text in texts:
        assert TOKEN not in text
        assert TOKEN.split(":", 1)[1] not in text


@pytest.mark.anyio
async def test_a_notification_reaches_the_chat_topic_with_title_and_body(api: FakeBotApi) -> None:
    route = route_for(api.url, topic=7, parse_mode="HTML")
    message = message_for(route)
    provider = TelegramProvider(route)
    try:
        delivery = await provider.send(message)
    finally:
        await provider.aclose()
    assert delivery.ok, delivery
    assert delivery.answer == "HTTP 200 OK: message 1"
    [request] = api.requests
    assert request.token == TOKEN
    assert request.method == "sendMessage"
    assert request.body["chat_id"] == CHAT
    assert request.body["message_thread_id"] == 7
    assert request.body["parse_mode"] == "HTML"
    assert request.body["text"].startswith(f"<b>{message.title}</b>\n\n")
    assert "[STATUS] == 200 (actual 503)" in request.body["text"]
    assert_no_token(delivery.answer, delivery.error)


@pytest.mark.anyio
async def test_plain_text_has_no_parse_mode_and_markdown_is_escaped(api: FakeBotApi) -> None:
    plain = route_for(api.url)
    assert (await send(plain))[1].ok  # type: ignore[attr-defined]
    markdown = route_for(api.url, parse_mode="MarkdownV2")
    assert (await send(markdown))[1].ok  # type: ignore[attr-defined]
    first, second = api.requests
    assert "parse_mode" not in first.body
    assert "message_thread_id" not in first.body
    assert "[STATUS] == 200 (actual 503)" in first.body["text"]
    assert "\\[STATUS\\] \\=\\= 200 \\(actual 503\\)" in second.body["text"]


@pytest.mark.anyio
async def test_a_bad_token_is_permanent_and_never_repeated(
    api: FakeBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "987654321:AAWrongTokenWrongTokenWrong_12345"
    route = route_for(api.url, token=wrong)
    _, delivery = await send(route)
    assert not delivery.ok  # type: ignore[attr-defined]
    assert delivery.retryable is False  # type: ignore[attr-defined]
    assert "HTTP 401 Unauthorized: Unauthorized" in delivery.answer  # type: ignore[attr-defined]
    assert "the bot token is wrong or revoked" in delivery.error  # type: ignore[attr-defined]
    assert f"Telegram API at {api.url}" in delivery.error  # type: ignore[attr-defined]
    for text in (delivery.answer, delivery.error, caplog.text):  # type: ignore[attr-defined]
        assert wrong not in text
        assert wrong.split(":", 1)[1] not in text


@pytest.mark.anyio
async def test_429_is_retried_after_the_servers_retry_after(api: FakeBotApi) -> None:
    api.throttle_next(5)
    _, delivery = await send(route_for(api.url))
    assert not delivery.ok  # type: ignore[attr-defined]
    assert delivery.retryable is True  # type: ignore[attr-defined]
    assert delivery.retry_after == 5.0  # type: ignore[attr-defined]
    assert "Too Many Requests: retry after 5" in delivery.answer  # type: ignore[attr-defined]


@pytest.mark.anyio
async def test_an_unknown_chat_is_permanent_and_named(api: FakeBotApi) -> None:
    _, delivery = await send(route_for(api.url, chat="-100999"))
    assert not delivery.ok  # type: ignore[attr-defined]
    assert delivery.retryable is False  # type: ignore[attr-defined]
    assert "Bad Request: chat not found" in delivery.answer  # type: ignore[attr-defined]
    assert "check chat_id '-100999'" in delivery.error  # type: ignore[attr-defined]
    assert_no_token(delivery.answer, delivery.error)  # type: ignore[attr-defined]


@pytest.mark.anyio
async def test_an_unreachable_api_is_retryable_and_the_error_has_no_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    _, delivery = await send(route_for(f"http://127.0.0.1:{port}"))
    assert not delivery.ok  # type: ignore[attr-defined]
    assert delivery.retryable is True  # type: ignore[attr-defined]
    assert f"cannot reach Telegram API at http://127.0.0.1:{port}" in delivery.error  # type: ignore[attr-defined]
    assert_no_token(delivery.error, delivery.answer, caplog.text)  # type: ignore[attr-defined]


@pytest.mark.anyio
async def test_the_delivery_engine_retries_a_429_then_delivers_and_stores_no_token(
    api: FakeBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    api.throttle_next(1)
    route = route_for(api.url)
    outcomes = Outcomes()
    async with delivering({"phone": TelegramProvider(route)}, outcomes) as deliverer:
        deliverer.submit([outbox_item(1, "web.home", "phone", 0)])
        with anyio.fail_after(30):
            while not any(isinstance(o, Delivered) for _, o in outcomes.seen):  # noqa: ASYNC110 - the outcome callback is synchronous, no event to wait on
                await anyio.sleep(0.05)
    kinds = [type(outcome) for _, outcome in outcomes.seen]
    assert kinds == [RetryAt, Delivered]
    retry = outcomes.seen[0][1]
    assert isinstance(retry, RetryAt)
    assert "429" in retry.error
    assert_no_token(retry.error, caplog.text)
    assert [r.status for r in api.requests] == [429, 200]


@pytest.mark.anyio
async def test_the_delivery_engine_gives_up_on_a_bad_token_at_once(api: FakeBotApi) -> None:
    wrong = "987654321:AAWrongTokenWrongTokenWrong_12345"
    outcomes = Outcomes()
    provider = TelegramProvider(route_for(api.url, token=wrong))
    async with delivering({"phone": provider}, outcomes) as deliverer:
        deliverer.submit([outbox_item(1, "web.home", "phone", 0)])
        with anyio.fail_after(30):
            while not outcomes.seen:  # noqa: ASYNC110 - the outcome callback is synchronous, no event to wait on
                await anyio.sleep(0.05)
    [(_, outcome)] = outcomes.seen
    assert isinstance(outcome, GaveUp)
    assert "401" in outcome.error
    assert wrong not in outcome.error
    assert wrong.split(":", 1)[1] not in outcome.error


def telegram_config(tmp_path: Path, api_url: str, token: str) -> Path:
    path = tmp_path / "nyxmon.yaml"
    path.write_text(
        f"agent:\n  database: {tmp_path / 'nyx.db'}\n"
        "services:\n  - name: web\n    checks:\n"
        "      - name: home\n        type: http\n        url: http://127.0.0.1:9/\n"
        "alerting:\n  routes:\n"
        "    - name: phone\n      type: telegram\n      bot_token: ${BOT_TOKEN}\n"
        f"      chat_id: {CHAT}\n      topic: 3\n      api_url: {api_url}\n"
    )
    os.environ.pop("NYXMON_CONFIG", None)
    return path


def run_cli(*args: str, cwd: Path, token: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", "BOT_TOKEN": token}
    return subprocess.run(
        [sys.executable, "-m", "nyxmon", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def test_notify_test_sends_through_the_configured_route_and_never_prints_the_token(
    api: FakeBotApi, tmp_path: Path
) -> None:
    config = telegram_config(tmp_path, api.url, TOKEN)
    routes = run_cli("notify", "routes", "--config", str(config), cwd=tmp_path, token=TOKEN)
    assert routes.returncode == 0, routes.stderr
    assert f"telegram -> chat {CHAT} topic 3 via {api.url}" in routes.stdout
    sent = run_cli("notify", "test", "phone", "--config", str(config), cwd=tmp_path, token=TOKEN)
    assert sent.returncode == 0, sent.stdout + sent.stderr
    [request] = api.requests
    assert request.body["message_thread_id"] == 3
    assert "NyxMon test notification (phone)" in request.body["text"]
    assert_no_token(routes.stdout, routes.stderr, sent.stdout, sent.stderr)


def test_notify_test_with_a_revoked_token_exits_1_without_printing_it(
    api: FakeBotApi, tmp_path: Path
) -> None:
    wrong = "987654321:AAWrongTokenWrongTokenWrong_12345"
    config = telegram_config(tmp_path, api.url, wrong)
    sent = run_cli("notify", "test", "phone", "--config", str(config), cwd=tmp_path, token=wrong)
    assert sent.returncode == 1
    assert "401" in sent.stderr
    assert "the bot token is wrong or revoked" in sent.stderr
    assert wrong not in sent.stdout + sent.stderr
    assert wrong.split(":", 1)[1] not in sent.stdout + sent.stderr


@pytest.mark.parametrize(
    ("route", "message"),
    [
        pytest.param(
            "type: telegram\n      chat_id: 5",
            'missing required key "bot_token"',
            id="no-token",
        ),
        pytest.param(
            "type: telegram\n      bot_token: not-a-token-at-all-secret\n      chat_id: 5",
            "expected a Telegram bot token like 123456789:AA...",
            id="bad-token",
        ),
        pytest.param(
            f"type: telegram\n      bot_token: {TOKEN}\n      chat_id: general",
            'expected a numeric chat id (-100... for groups) or @channelname, got "general"',
            id="bad-chat",
        ),
        pytest.param(
            f"type: telegram\n      bot_token: {TOKEN}\n      chat_id: 5\n      parse_mode: html",
            "parse_mode",
            id="bad-parse-mode",
        ),
        pytest.param(
            f"type: webhook\n      url: http://127.0.0.1:9/\n      bot_token: {TOKEN}",
            '"bot_token" is for telegram routes',
            id="token-on-webhook",
        ),
    ],
)
def test_a_bad_telegram_route_is_refused_by_key_without_showing_the_token(
    route: str, message: str
) -> None:
    text = (
        "services:\n  - name: web\n    checks:\n"
        "      - name: home\n        type: http\n        url: http://127.0.0.1:9/\n"
        f"alerting:\n  routes:\n    - name: phone\n      {route}\n"
    )
    with pytest.raises(ConfigValidationError) as caught:
        load_config_text(text, filename="t.yaml")
    shown = str(caught.value)
    assert "alerting.routes[0]" in shown
    assert message in shown
    assert "not-a-token-at-all-secret" not in shown
    assert TOKEN not in shown
