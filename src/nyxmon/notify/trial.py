"""The TEST notification that ``nyxmon notify test`` and ``POST /api/v1/notify/test`` send.

Rendered with the route's own templates, so a test shows what a real notice through that
route looks like; it has a fresh key every time (test sends are never deduplicated) and never
goes through the outbox.
"""

from __future__ import annotations

import time
import uuid

from nyxmon.domain.alerting.notices import CheckInfo
from nyxmon.domain.alerting.types import AlertState, Notice, NoticeKind, Route, Severity
from nyxmon.notify.records import OutgoingMessage
from nyxmon.notify.templates import MessageRenderer

__all__ = ["TRIAL_CHECK", "trial_message"]

#: The check a TEST notice speaks of (no such check exists).
TRIAL_CHECK = CheckInfo(check_id="nyxmon.test", name="test notification", service="NyxMon")


def _trial_notice(message: str) -> Notice:
    """A TEST notice saying ``message`` (where it was sent from), with a fresh key."""
    at = time.time()
    return Notice(
        key=f"test-{uuid.uuid4().hex}",
        check_id=TRIAL_CHECK.check_id,
        kind=NoticeKind.TEST,
        state=AlertState.UP,
        previous=AlertState.UP,
        at=at,
        since=at,
        severity=Severity.INFO,
        message=message,
    )


def trial_message(route: Route, public_url: str, message: str) -> OutgoingMessage:
    """The TEST notice rendered for ``route``."""
    notice = _trial_notice(message)
    return MessageRenderer(public_url).render(notice, TRIAL_CHECK, route, notice.key)
