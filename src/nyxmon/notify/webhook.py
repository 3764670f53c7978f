"""The native webhook provider: a signed JSON POST with an idempotency key.

Wire format (``Content-Type: application/json``), one object per notification::

    {"version": 1, "key": "<idempotency key>", "route": "ops", "kind": "down",
     "state": "down", "previous": "up", "severity": "critical",
     "check": {"id": "web.home", "name": "home", "service": "web", "group": "",
               "labels": {...}},
     "at": 1732388760.5, "since": 1732388700.0, "elapsed_seconds": 60.5,
     "duration_seconds": null, "message": "...", "failing": ["[STATUS] == 200 (actual 503)"],
     "details": {...}, "title": "DOWN: web / home", "body": "...", "link": "http://.../checks/web.home",
     "test": false}

Headers: the route's own, then ``User-Agent: NyxMon``, ``X-NyxMon-Idempotency-Key`` (the same
key on every retry: drop duplicates by it), ``X-NyxMon-Event`` (the kind) and, when the route has
a ``secret``, ``X-NyxMon-Timestamp`` and ``X-NyxMon-Signature`` (see :mod:`.signature`).

Answers: 2xx delivered; 408, 429 and 5xx retryable (``Retry-After`` honoured); other 4xx and
redirects permanent (a redirect is not followed: the route should name the final URL);
connection errors and timeouts retryable.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from nyxmon.domain.alerting.types import NoticeKind, Route
from nyxmon.domain.redaction import mask_url
from nyxmon.errors import NotificationError
from nyxmon.notify.records import Delivery, OutgoingMessage
from nyxmon.notify.signature import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
)

__all__ = ["WebhookProvider", "parse_retry_after", "webhook_body"]

_ANSWER_BYTES = 2048
_RETRYABLE_4XX = frozenset({408, 429})


def webhook_body(message: OutgoingMessage) -> dict[str, Any]:
    """The JSON document sent for ``message`` (the module docstring shows its shape)."""
    notice, check = message.notice, message.check
    return {
        "version": 1,
        "key": message.key,
        "route": message.route.name,
        "kind": notice.kind.value,
        "state": notice.state.value,
        "previous": notice.previous.value,
        "severity": notice.severity.value,
        "check": {
            "id": notice.check_id,
            "name": check.name,
            "service": check.service,
            "group": check.group,
            "labels": dict(check.labels),
        },
        "at": notice.at,
        "since": notice.since,
        "elapsed_seconds": max(0.0, notice.at - notice.since),
        "duration_seconds": notice.duration,
        "message": notice.message,
        "failing": list(notice.failing),
        "details": dict(notice.details),
        "title": message.title,
        "body": message.body,
        "link": message.link,
        "test": notice.kind is NoticeKind.TEST,
    }


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


class WebhookProvider:
    """POSTs each message to the route's ``webhook_url`` with aiohttp (asyncio loops only)."""

    def __init__(
        self,
        route: Route,
        *,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        url = route.webhook_url
        if not url:
            raise NotificationError(f"route {route.name!r}: a webhook route needs webhook_url")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise NotificationError(
                f"route {route.name!r}: webhook_url {mask_url(url)!r} must be an http:// or "
                "https:// URL"
            )
        self._route = route
        self._url = url
        self._shown = mask_url(url)
        self._timeout = timeout
        self._clock = clock
        self._session = session
        self._owns_session = session is None

    @property
    def route(self) -> Route:
        return self._route

    async def send(self, message: OutgoingMessage) -> Delivery:
        body = json.dumps(webhook_body(message), separators=(",", ":"), default=str).encode()
        headers = {**self._route.headers, **self._headers(message, body)}
        try:
            session = self._session_now()
            async with session.post(
                self._url,
                data=body,
                headers=headers,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=self._timeout),
            ) as response:
                text = (await response.content.read(_ANSWER_BYTES)).decode(errors="replace")
                return self._judge(response, text)
        except TimeoutError:
            return Delivery.failed(
                f"no answer from {self._shown} within {self._timeout} s", retryable=True
            )
        except (aiohttp.ClientError, OSError) as exc:
            return Delivery.failed(
                f"cannot reach {self._shown}: {type(exc).__name__}: {exc}", retryable=True
            )

    async def aclose(self) -> None:
        if self._session is not None and self._owns_session:
            await self._session.close()
        self._session = None

    def _session_now(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
            self._owns_session = True
        return self._session

    def _headers(self, message: OutgoingMessage, body: bytes) -> dict[str, str]:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "NyxMon",
            IDEMPOTENCY_HEADER: message.key,
            "X-NyxMon-Event": message.notice.kind.value,
        }
        if self._route.secret:
            stamp = str(int(self._clock()))
            headers[TIMESTAMP_HEADER] = stamp
            headers[SIGNATURE_HEADER] = sign(self._route.secret, stamp, body)
        return headers

    def _judge(self, response: aiohttp.ClientResponse, text: str) -> Delivery:
        status = response.status
        answer = f"HTTP {status} {response.reason or ''}".rstrip()
        if text.strip():
            answer += f": {text.strip()[:500]}"
        if 200 <= status < 300:
            return Delivery.delivered(answer)
        if 300 <= status < 400:
            where = response.headers.get("Location", "?")
            return Delivery.failed(
                f"{self._shown} redirects to {where}; point the route at the final URL",
                retryable=False,
                answer=answer,
            )
        retryable = status >= 500 or status in _RETRYABLE_4XX
        wait = parse_retry_after(response.headers.get("Retry-After"), self._clock())
        return Delivery.failed(
            f"{self._shown} answered {answer}", retryable=retryable, answer=answer, retry_after=wait
        )
