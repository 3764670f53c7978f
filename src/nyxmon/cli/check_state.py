"""A check's state as the CLI shows it: what the agent last stored, read from the database.

The CLI does not talk to a running agent, so it rebuilds each check's status from the rows the
agent writes: the alert state row (``store.load_states()``: ``down`` after the failure
threshold, ``flapping``, ``maintenance``, ...) and the latest result. The state shown is then
decided like the API's (:func:`nyxmon.domain.status.state_of`), so ``nyxmon check list`` and
``GET /api/v1/checks`` agree.
"""

from __future__ import annotations

import datetime as dt
import time

from nyxmon.domain.durations import human_duration
from nyxmon.domain.model import Check
from nyxmon.domain.status import CheckStatus, state_of

__all__ = ["describe_state", "schedule_of", "state_of"]


def schedule_of(check: Check) -> str:
    """Whether the agent runs it: ``enabled``, ``paused`` (history kept) or ``disabled``."""
    if not check.enabled:
        return "disabled"
    return "paused" if check.paused else "enabled"


def describe_state(check: Check, status: CheckStatus | None, now: float | None = None) -> str:
    """``down since 14:02:07 (3 min 5 s)``, ``pending`` before the first stored verdict."""
    state = state_of(check, status)
    since = status.alert_since if status is not None else None
    if since is None or state == "paused":
        return state
    now = time.time() if now is None else now
    at = dt.datetime.fromtimestamp(since).strftime("%Y-%m-%d %H:%M:%S")
    return f"{state} since {at} ({human_duration(now - since)})"
