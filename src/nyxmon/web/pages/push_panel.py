"""What the check page shows of a push check: its schedule, when the next ping is due, its
last pings (on time, late, early, missed) and how a job pings it.

The key itself is a secret shown once (after it was made or rotated); the page otherwise
shows the ping URL with a placeholder, so the copyable ``curl`` line is right but for the key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from nyxmon.domain.durations import human_duration
from nyxmon.domain.model import Check, Result
from nyxmon.domain.push import PUSH_TYPE, schedule_for

__all__ = ["PingRow", "PushPanel", "push_panel"]

KEY_PLACEHOLDER = "YOUR-PING-KEY"


@dataclass(frozen=True, slots=True)
class PingRow:
    at: float
    kind: str  # success, fail, start, log, missed, run_timeout
    timing: str  # on time, late, early, missed, "" for start and log
    detail: str
    source: str


@dataclass(frozen=True, slots=True)
class PushPanel:
    schedule: str
    next_due: float | None
    ping_url: str
    curl: str
    wget: str
    key_shown: bool
    pings: tuple[PingRow, ...]


def push_panel(
    check: Check, results: Sequence[Result], public_url: str, new_key: str | None = None
) -> PushPanel | None:
    """The panel of a push check (None for any other type); ``new_key`` is shown this once."""
    if check.type != PUSH_TYPE:
        return None
    try:
        schedule = schedule_for(check.interval, check.params)
        described = schedule.describe()
    except ValueError as exc:
        return PushPanel(f"invalid: {exc}", None, "", "", "", False, ())
    key = new_key or KEY_PLACEHOLDER
    url = f"{public_url.rstrip('/')}/ping/{key}"
    rows = tuple(_row(result) for result in results[:20])
    next_due = None
    for result in results:
        kind = result.details.get("ping")
        if kind in ("success", "fail"):
            next_due = schedule.next_after(result.started_at) + schedule.grace
            break
        if kind == "missed":
            expected = float(result.details.get("expected_at", result.started_at))
            next_due = schedule.next_after(expected) + schedule.grace
            break
    return PushPanel(
        schedule=described,
        next_due=next_due,
        ping_url=url,
        curl=f"curl -fsS -m 10 --retry 5 -o /dev/null {url}",
        wget=f"wget -q -T 10 -t 5 -O /dev/null {url}",
        key_shown=new_key is not None,
        pings=rows,
    )


def _row(result: Result) -> PingRow:
    details = result.details
    kind = str(details.get("ping", "?"))
    timing = str(details.get("timing", ""))
    if kind in ("missed", "run_timeout"):
        timing = "missed"
    parts: list[str] = []
    if "exit_status" in details:
        parts.append(f"exit {details['exit_status']}")
    if result.duration and kind in ("success", "fail"):
        parts.append(f"ran {human_duration(result.duration)}")
    if kind in ("missed", "run_timeout"):
        parts.append(result.message)
    elif details.get("body"):
        body = str(details["body"]).strip().splitlines()
        if body:
            parts.append(body[-1][:120])
    return PingRow(
        result.started_at, kind, timing, " · ".join(parts), str(details.get("remote_addr", ""))
    )
