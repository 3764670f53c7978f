"""The Apprise provider: Telegram, Slack, Discord, Teams, e-mail, ntfy, Gotify, Pushover, Matrix
and the rest of Apprise's 100+ URL schemes, one route holding one or more URLs.

Apprise is synchronous, so every send runs on an :class:`~nyxmon.runtime.OffloadPool`, never on
the loop. Apprise answers only True/False; the reason for a failure is in its log records, so
each send captures the records its own worker thread emits (a filter on the ``apprise`` logger,
keyed by thread, so concurrent sends never mix their logs) and reports them as the answer.

A route with several URLs is delivered when every URL took the message. Within one process a
retry skips the URLs that already took it; Apprise services have no idempotency key, so after a
restart a partly delivered notification may reach some URLs twice (at-least-once).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import warnings
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

import apprise

from nyxmon.domain.alerting.types import NoticeKind, Route
from nyxmon.errors import NotificationError
from nyxmon.notify.records import Delivery, OutgoingMessage
from nyxmon.runtime import OffloadPool

__all__ = ["AppriseProvider", "apprise_url_problem", "captured_apprise_logs"]

# Apprise's e-mail plugin imports ``imghdr`` (deprecated on 3.11/3.12) when it first loads; do
# that once here, quietly, so setups turning warnings into errors do not fail on first use.
with warnings.catch_warnings(), contextlib.suppress(ImportError):
    warnings.simplefilter("ignore", DeprecationWarning)
    import imghdr  # noqa: F401

_NOTIFY_TYPE = {
    NoticeKind.DOWN: apprise.NotifyType.FAILURE,
    NoticeKind.ESCALATION: apprise.NotifyType.FAILURE,
    NoticeKind.REMINDER: apprise.NotifyType.FAILURE,
    NoticeKind.RECOVERED: apprise.NotifyType.SUCCESS,
    NoticeKind.FLAPPING_ENDED: apprise.NotifyType.SUCCESS,
    NoticeKind.DEGRADED: apprise.NotifyType.WARNING,
    NoticeKind.FLAPPING: apprise.NotifyType.WARNING,
    NoticeKind.TEST: apprise.NotifyType.INFO,
}
# Debug records worth reporting: the exception or the receiver's answer, never the payload.
_USEFUL_DEBUG = ("Socket Exception", "Response Details", "Exception")
_REMEMBERED = 10_000
_ANSWER_CHARS = 800


class _ThreadCapture(logging.Filter):
    """Collects ``apprise`` log records per thread; passes on what would have passed anyway."""

    def __init__(self, passthrough: int) -> None:
        super().__init__("apprise")
        self.passthrough = passthrough
        self.local = threading.local()

    def filter(self, record: logging.LogRecord) -> bool:
        sink: list[logging.LogRecord] | None = getattr(self.local, "sink", None)
        if sink is not None:
            sink.append(record)
        return record.levelno >= self.passthrough


_install_lock = threading.Lock()
_capture: _ThreadCapture | None = None


def _installed() -> _ThreadCapture:
    global _capture
    with _install_lock:
        if _capture is None:
            logger = logging.getLogger("apprise")
            # Lower the logger so debug reasons reach the filter; the filter keeps the rest of
            # the logging setup seeing only what it saw before.
            _capture = _ThreadCapture(logger.getEffectiveLevel())
            logger.addFilter(_capture)
            logger.setLevel(logging.DEBUG)
        return _capture


@contextmanager
def captured_apprise_logs() -> Iterator[list[logging.LogRecord]]:
    """The records Apprise logs from this thread inside the ``with`` block."""
    capture = _installed()
    previous = getattr(capture.local, "sink", None)
    sink: list[logging.LogRecord] = []
    capture.local.sink = sink
    try:
        yield sink
    finally:
        capture.local.sink = previous


def _reason(records: list[logging.LogRecord]) -> str:
    lines = [
        " ".join(r.getMessage().split())
        for r in records
        if r.levelno >= logging.WARNING
        or (r.levelno >= logging.DEBUG and r.getMessage().startswith(_USEFUL_DEBUG))
    ]
    text = "; ".join(dict.fromkeys(line for line in lines if line))
    return text[:_ANSWER_CHARS] or "Apprise reported a failure without saying why"


def apprise_url_problem(url: str) -> str | None:
    """``None`` if Apprise understands ``url``, else why not (for config validation)."""
    with captured_apprise_logs() as records:
        plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        return _reason(records)
    return None


class AppriseProvider:
    """Sends a route's messages to each of its Apprise URLs, on ``pool``."""

    def __init__(self, route: Route, pool: OffloadPool, *, timeout: float = 60.0) -> None:
        if not route.urls:
            raise NotificationError(f"route {route.name!r}: an apprise route needs urls")
        shown: list[str] = []
        for index, url in enumerate(route.urls):
            with captured_apprise_logs() as records:
                plugin = apprise.Apprise.instantiate(url)
            if plugin is None:
                raise NotificationError(
                    f"route {route.name!r}: urls[{index}] is not a URL Apprise can use: "
                    f"{_reason(records)}"
                )
            # The privacy form hides tokens and passwords; the query holds only options.
            shown.append(str(plugin.url(privacy=True)).split("?", 1)[0])  # type: ignore[no-untyped-call]
        self._shown = tuple(shown)
        self._route = route
        self._pool = pool
        self._timeout = timeout
        self._lock = threading.Lock()
        self._delivered: OrderedDict[tuple[str, int], None] = OrderedDict()

    @property
    def route(self) -> Route:
        return self._route

    async def send(self, message: OutgoingMessage) -> Delivery:
        return await self._pool.run(self.send_blocking, message, timeout=self._timeout)

    async def aclose(self) -> None:
        return None

    def send_blocking(self, message: OutgoingMessage) -> Delivery:
        """Send on the calling thread (a pool worker, or a CLI without a loop)."""
        sent: list[str] = []
        failed: list[str] = []
        for index, url in enumerate(self._route.urls):
            if self._already(message.key, index):
                sent.append(f"{self._shown[index]}: delivered earlier")
                continue
            with captured_apprise_logs() as records:
                plugin = apprise.Apprise.instantiate(url)
                ok = plugin is not None and bool(
                    plugin.notify(
                        body=message.body,
                        title=message.title,
                        notify_type=_NOTIFY_TYPE[message.notice.kind],
                    )
                )
            if ok:
                self._remember(message.key, index)
                sent.append(f"{self._shown[index]}: sent")
            else:
                failed.append(f"{self._shown[index]}: {_reason(records)}")
        answer = "; ".join(failed + sent)
        if failed:
            return Delivery.failed(
                f"{len(failed)} of {len(self._route.urls)} Apprise URL(s) failed: {answer}",
                retryable=True,
                answer=answer,
            )
        return Delivery.delivered(answer)

    def _already(self, key: str, index: int) -> bool:
        with self._lock:
            return (key, index) in self._delivered

    def _remember(self, key: str, index: int) -> None:
        with self._lock:
            self._delivered[(key, index)] = None
            while len(self._delivered) > _REMEMBERED:
                self._delivered.popitem(last=False)
