"""The native Telegram provider: one ``sendMessage`` call to the Bot API per notification.

Apprise's ``tgram://`` always talks to api.telegram.org, so it can be neither pointed at a
self-hosted Bot API server nor tested here; this provider takes ``api_url`` for both.

Request: ``POST {api_url}/bot{token}/sendMessage`` with JSON ``{"chat_id", "text",
"parse_mode"?, "message_thread_id"?, "disable_web_page_preview": true}``; the text is the
title, a blank line and the body, escaped for the parse mode and cut to Telegram's 4,096
characters.

Answers (``{"ok": false, "error_code": ..., "description": ...}`` on failure): 2xx with
``ok: true`` delivered; 429 retryable after ``parameters.retry_after`` seconds; 5xx,
connection errors and timeouts retryable; other 4xx (401 a bad token, 400 a chat that does
not exist, 403 a bot that was blocked) permanent.

The bot token is part of the request path, so no text this module produces carries the URL:
errors name ``api_url`` only, and anything quoted from aiohttp or the server has the token
replaced by ``***`` before it leaves (whether or not it was registered for redaction).
"""

from __future__ import annotations

import html
import json
import re
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from nyxmon.domain.alerting.types import Route, TelegramTarget
from nyxmon.domain.redaction import MASK, mask_url
from nyxmon.errors import NotificationError
from nyxmon.notify.records import Delivery, OutgoingMessage

__all__ = ["PARSE_MODES", "TelegramProvider", "telegram_target", "telegram_text"]

PARSE_MODES = ("HTML", "MarkdownV2")
_MAX_TEXT = 4096
_ANSWER_BYTES = 2048
_MARKDOWN_V2_SPECIAL = re.compile(r"([_*\[\]()~`>#+\-=|{}.!\\])")


def telegram_target(target: TelegramTarget) -> str:
    """Where a telegram route sends, without its token: ``chat 42 topic 7 via https://host``."""
    topic = f" topic {target.topic}" if target.topic is not None else ""
    return f"chat {target.chat_id}{topic} via {mask_url(target.api_url)}"


def _escape(text: str, parse_mode: str | None) -> str:
    if parse_mode == "HTML":
        return html.escape(text, quote=False)
    if parse_mode == "MarkdownV2":
        return _MARKDOWN_V2_SPECIAL.sub(r"\\\1", text)
    return text


def telegram_text(message: OutgoingMessage, parse_mode: str | None) -> str:
    """The message text: the title (bold when a parse mode allows), a blank line, the body.

    A body too long for Telegram is cut before it is escaped, so no escape or tag is cut.
    """
    title = _escape(message.title, parse_mode)
    if parse_mode == "HTML":
        title = f"<b>{title}</b>"
    elif parse_mode == "MarkdownV2":
        title = f"*{title}*"
    room = _MAX_TEXT - len(title) - 2
    raw = message.body
    body = _escape(raw, parse_mode)
    while len(body) > room and raw:
        raw = raw[: max(0, len(raw) - (len(body) - room) - 1)]
        body = _escape(raw + "…", parse_mode)
    return f"{title}\n\n{body}" if body else title[:_MAX_TEXT]


class TelegramProvider:
    """Sends each message of a ``telegram`` route with aiohttp (asyncio loops only)."""

    def __init__(
        self,
        route: Route,
        *,
        timeout: float = 10.0,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        target = route.telegram
        if target is None or not target.bot_token or not target.chat_id:
            raise NotificationError(
                f"route {route.name!r}: a telegram route needs bot_token and chat_id"
            )
        parts = urlsplit(target.api_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise NotificationError(
                f"route {route.name!r}: api_url {mask_url(target.api_url)!r} must be an "
                "http:// or https:// URL"
            )
        if target.parse_mode is not None and target.parse_mode not in PARSE_MODES:
            raise NotificationError(
                f"route {route.name!r}: parse_mode {target.parse_mode!r} is not one of "
                + ", ".join(PARSE_MODES)
            )
        self._route = route
        self._target: TelegramTarget = target
        self._url = f"{target.api_url.rstrip('/')}/bot{target.bot_token}/sendMessage"
        self._shown = f"Telegram API at {mask_url(target.api_url)}"
        self._timeout = timeout
        self._session = session
        self._owns_session = session is None

    @property
    def route(self) -> Route:
        return self._route

    def payload(self, message: OutgoingMessage) -> dict[str, Any]:
        """The JSON body of the ``sendMessage`` call for ``message``."""
        target = self._target
        body: dict[str, Any] = {
            "chat_id": target.chat_id,
            "text": telegram_text(message, target.parse_mode),
            "disable_web_page_preview": True,
        }
        if target.parse_mode is not None:
            body["parse_mode"] = target.parse_mode
        if target.topic is not None:
            body["message_thread_id"] = target.topic
        return body

    async def send(self, message: OutgoingMessage) -> Delivery:
        try:
            session = self._session_now()
            async with session.post(
                self._url,
                json=self.payload(message),
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=self._timeout),
            ) as response:
                raw = await response.content.read(_ANSWER_BYTES)
                return self._judge(response.status, response.reason or "", raw)
        except TimeoutError:
            return Delivery.failed(
                f"no answer from {self._shown} within {self._timeout} s", retryable=True
            )
        except (aiohttp.ClientError, OSError) as exc:
            reason = self._scrub(f"{type(exc).__name__}: {exc}")
            return Delivery.failed(f"cannot reach {self._shown}: {reason}", retryable=True)

    async def aclose(self) -> None:
        if self._session is not None and self._owns_session:
            await self._session.close()
        self._session = None

    def _session_now(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
            self._owns_session = True
        return self._session

    def _scrub(self, text: str) -> str:
        return text.replace(self._target.bot_token, MASK)

    def _judge(self, status: int, reason: str, raw: bytes) -> Delivery:
        text = raw.decode(errors="replace")
        try:
            answer_doc = json.loads(text)
        except ValueError:
            answer_doc = None
        document: dict[str, Any] = answer_doc if isinstance(answer_doc, dict) else {}
        description = str(document.get("description") or text.strip()[:300])
        answer = f"HTTP {status} {reason}".rstrip()
        answer = self._scrub(f"{answer}: {description}" if description else answer)
        if 200 <= status < 300 and document.get("ok") is True:
            result = document.get("result")
            sent = result.get("message_id") if isinstance(result, dict) else None
            shown = f"HTTP {status} {reason}".rstrip()
            return Delivery.delivered(f"{shown}: message {sent}" if sent is not None else shown)
        if 200 <= status < 300:
            return Delivery.failed(
                f"{self._shown} answered {answer} without ok: true", retryable=True, answer=answer
            )
        wait: float | None = None
        parameters = document.get("parameters")
        if isinstance(parameters, dict) and isinstance(parameters.get("retry_after"), int | float):
            wait = float(parameters["retry_after"])
        retryable = status == 429 or status >= 500
        hint = ""
        if status == 401:
            hint = " (the bot token is wrong or revoked)"
        elif status == 400 and "chat" in description.lower():
            hint = f" (check chat_id {self._target.chat_id!r} and that the bot is a member)"
        return Delivery.failed(
            f"{self._shown} answered {answer}{hint}",
            retryable=retryable,
            answer=answer,
            retry_after=wait,
        )
