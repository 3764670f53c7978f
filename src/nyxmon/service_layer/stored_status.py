"""A check's status rebuilt from what its agent stored, for readers without the agent's feed.

The CLI reads the database directly, and a web plane on a shared PostgreSQL database follows
agents on other machines: both rebuild each check's status from the rows an agent writes, the
alert state row (``store.load_states()``: ``down`` after the failure threshold, ``flapping``,
``maintenance``, ...) and the latest result.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from nyxmon.domain.model import Check, Result
from nyxmon.domain.status import CheckStatus
from nyxmon.service_layer.records.alerts import StateRow
from nyxmon.service_layer.storage import Store

__all__ = ["stored_status", "stored_statuses"]


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


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
