"""A check's state as the CLI shows it: what the agent last stored, read from the database.

The CLI does not talk to a running agent, so it rebuilds each check's status from the rows the
agent writes: the alert state row (``store.load_states()``: ``down`` after the failure
threshold, ``flapping``, ``maintenance``, ...) and the latest result. The state shown is then
decided like the API's (:func:`nyxmon.web.live.state_of`), so ``nyxmon check list`` and
``GET /api/v1/checks`` agree.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Mapping

from nyxmon.domain.durations import human_duration
from nyxmon.domain.model import Check, Result
from nyxmon.domain.status import CheckStatus
from nyxmon.service_layer.records.alerts import StateRow
from nyxmon.service_layer.storage import Store
from nyxmon.web.live import state_of

__all__ = ["describe_state", "schedule_of", "state_of", "stored_status", "stored_statuses"]


def stored_status(check_id: str, row: StateRow | None, last: Result | None) -> CheckStatus | None:
    """The status the agent would report, from its stored state row and the latest result."""
    if row is None and last is None:
        return None
    snapshot: Mapping[str, object] = row.snapshot if row is not None else {}
    return CheckStatus(
        check_id,
        last_outcome=last.outcome if last is not None else None,
        last_degraded=last.degraded if last is not None else False,
        last_result_at=last.started_at if last is not None else None,
        last_duration=last.duration if last is not None else None,
        last_message=last.message if last is not None else "",
        consecutive_ok=_count(snapshot.get("consecutive_ok")),
        consecutive_failures=_count(snapshot.get("consecutive_failures")),
        alert_state=row.state if row is not None else None,
        alert_since=row.since if row is not None else None,
    )


def stored_statuses(store: Store, checks: Iterable[Check]) -> dict[str, CheckStatus | None]:
    """Every given check's stored status (None when the agent has stored nothing of it yet)."""
    ids = [check.id for check in checks]
    rows = store.load_states()
    latest = store.latest_results(ids)
    statuses: dict[str, CheckStatus | None] = {}
    for check_id in ids:
        stored = latest.get(check_id)
        statuses[check_id] = stored_status(
            check_id, rows.get(check_id), stored.result if stored is not None else None
        )
    return statuses


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


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
