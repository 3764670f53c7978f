"""Push checks inside the application: their keys, their trackers, and pings made results.

How a ping becomes durable and reaches the alert machine (the one write path): the web plane
(its own process, or a thread beside the agent) parses ``/ping/{key}...`` and sends the ping to
the agent as a command (:class:`~nyxmon.service_layer.messages.RecordPing`, over the control
socket when the web plane is another process). On the dispatcher thread, the single writer of
live state, :class:`PushBook` finds the check by its key, its tracker says what the ping means
(on time, late, early; the run it ends), and the ping becomes a :class:`Result` that is
staged like a probe's, with whatever the check's machine decided, for the store writer's next
batch. The web plane answers only once that batch committed
(:meth:`Application.when_durable`), so a ``200`` means the ping is on disk, and the ping and
the notice it causes commit together. Why not a table of its own written by the web plane:
a second writer would contend with the agent's for SQLite's one write lock, and a ping would
reach the machine only after another hop; the results table already holds what a ping says
(outcome, duration, details) and is what the check page, the API and retention read.

Starts and logs are stored as results too (so they are durable and listed with the others)
but not shown to the machine: they end no run, so they say nothing about up or down.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from nyxmon.domain.conditions import (
    Condition,
    Observation,
    compile_condition,
    evaluate_all,
    truncate,
)
from nyxmon.domain.durations import human_duration
from nyxmon.domain.model import Check, Outcome, Result
from nyxmon.domain.push import (
    PUSH_TYPE,
    Missed,
    Ping,
    PingKind,
    PingVerdict,
    PushTracker,
    schedule_for,
)

__all__ = ["PushBook", "PushEntry", "is_push"]

log = logging.getLogger(__name__)

_DEFAULT_BODY_LIMIT = 10_000
_SHOWN_UA = 200


def is_push(check: Check) -> bool:
    return check.type == PUSH_TYPE


@dataclass(slots=True)
class PushEntry:
    """One push check as the book holds it."""

    check: Check
    tracker: PushTracker
    conditions: tuple[Condition, ...]
    body_limit: int


class PushBook:
    """Every live push check by id and by key; owned by the dispatcher thread."""

    def __init__(self) -> None:
        self.entries: dict[str, PushEntry] = {}
        self._by_key: dict[str, str] = {}
        self._catalog_keys: tuple[tuple[Check, ...] | None, frozenset[str]] = (None, frozenset())

    def __len__(self) -> int:
        return len(self.entries)

    def check_for(self, key: str) -> PushEntry | None:
        check_id = self._by_key.get(key)
        return None if check_id is None else self.entries.get(check_id)

    def key_in(self, key: str, catalog: tuple[Check, ...]) -> bool:
        """Whether a live push check of ``catalog`` (every agent's checks, not only the ones
        followed here) has ``key``; the map is rebuilt only when the catalog changes."""
        if self._catalog_keys[0] is not catalog:
            keys = frozenset(
                str(check.params.get("token") or "")
                for check in catalog
                if is_push(check) and check.active
            )
            self._catalog_keys = (catalog, keys - {""})
        return key in self._catalog_keys[1]

    # -- following the catalog -----------------------------------------------------------------
    def follow(self, checks: Iterable[Check], now: float) -> tuple[list[str], list[str]]:
        """Keep exactly the push checks among ``checks``; returns (check ids whose deadline
        must be armed again, check ids that went away or stopped)."""
        wanted = {check.id: check for check in checks if is_push(check)}
        gone = [cid for cid in self.entries if cid not in wanted]
        for check_id in gone:
            del self.entries[check_id]
        changed: list[str] = []
        for check_id, check in wanted.items():
            entry = self.entries.get(check_id)
            if entry is not None and entry.check == check:
                continue
            try:
                fresh = self._entry(check, now, entry)
            except Exception as exc:  # a bad stored check must not stop the others
                log.error("push check %r cannot be followed: %s", check_id, exc)
                self.entries.pop(check_id, None)
                gone.append(check_id)
                continue
            self.entries[check_id] = fresh
            if check.active:
                changed.append(check_id)
            else:
                gone.append(check_id)
        self._by_key = {}
        for check_id, entry in self.entries.items():
            key = str(entry.check.params.get("token") or "")
            if not key:
                continue
            other = self._by_key.setdefault(key, check_id)
            if other != check_id:
                log.error(
                    "push checks %r and %r share a ping key; %r gets its pings",
                    other,
                    check_id,
                    other,
                )
        return changed, gone

    def _entry(self, check: Check, now: float, old: PushEntry | None) -> PushEntry:
        schedule = schedule_for(check.interval, check.params)
        if (
            old is not None
            and old.tracker.schedule == schedule
            and old.tracker.timeout == check.timeout
        ):
            tracker = old.tracker
            if check.active and not old.check.active:
                tracker.resume(now)
        else:
            anchor = now
            if old is not None and old.tracker.last_ping_at is not None:
                anchor = old.tracker.last_ping_at
            tracker = PushTracker(schedule, check.timeout, anchor)
            if old is not None:
                tracker.last_ping_at = old.tracker.last_ping_at
                tracker.open_runs = dict(old.tracker.open_runs)
            if check.active and old is not None and not old.check.active:
                tracker.resume(now)
        conditions = tuple(compile_condition(text) for text in check.conditions)
        limit = check.params.get("body_limit", _DEFAULT_BODY_LIMIT)
        return PushEntry(check, tracker, conditions, int(limit))

    def restore(self, latest: Mapping[str, Result], now: float) -> list[str]:
        """Resume trackers from each push check's newest stored result (after a restart):
        the next ping is expected a slot after the last one, a start still open stays
        open. Returns the ids to arm."""
        armed: list[str] = []
        for check_id, result in latest.items():
            entry = self.entries.get(check_id)
            if entry is None:
                continue
            tracker = entry.tracker
            kind = str(result.details.get("ping", ""))
            at = result.started_at
            base = float(result.details.get("expected_at", at)) if kind == "missed" else at
            tracker.expected_at = tracker.schedule.next_after(base)
            if kind in (PingKind.SUCCESS, PingKind.FAIL):
                tracker.last_ping_at = at
            if kind == PingKind.START:
                tracker.open_runs[str(result.details.get("rid") or "")] = at
            if entry.check.active:
                armed.append(check_id)
        return armed

    # -- results -------------------------------------------------------------------------------
    def ping_result(self, entry: PushEntry, ping: Ping, verdict: PingVerdict) -> Result:
        """The result recording ``ping``: what it said, where from, and for the end of a run
        its timing and the verdict of the check's conditions."""
        body = ping.body[: entry.body_limit]
        text = body.decode("utf-8", "replace")
        details: dict[str, Any] = {"ping": ping.kind.value, "method": ping.method}
        if ping.exit_status is not None:
            details["exit_status"] = ping.exit_status
        if ping.rid:
            details["rid"] = ping.rid
        if text:
            details["body"] = text
        details["body_size"] = len(ping.body)
        if len(ping.body) > len(body):
            details["body_truncated"] = True
        details["remote_addr"] = ping.remote_addr
        if ping.user_agent:
            details["user_agent"] = ping.user_agent[:_SHOWN_UA]
        duration = 0.0
        if verdict.timing is not None:
            details["timing"] = verdict.timing
            details["expected_at"] = verdict.expected_at
        if verdict.duration is not None:
            duration = verdict.duration
            details["run_started_at"] = verdict.started_at
        outcome = Outcome.OK
        message = _ping_message(ping, verdict)
        if ping.kind.ends_run:
            if ping.kind is PingKind.FAIL:
                outcome = Outcome.FAIL
            observation = Observation(
                body=body,
                exit_status=ping.exit_status,
                duration_ms=None if verdict.duration is None else verdict.duration * 1000,
            )
            failed = [
                o.description for o in evaluate_all(entry.conditions, observation) if not o.ok
            ]
            if failed:
                details["failed_conditions"] = failed
                outcome = Outcome.FAIL
                message = f"{message}; " + "; ".join(failed)
        return Result(
            entry.check.id,
            ping.at,
            ping.at,
            duration,
            outcome,
            message,
            details=details,
        )

    def missed_result(self, entry: PushEntry, missed: Missed) -> Result:
        """The result recording a deadline that passed."""
        details: dict[str, Any] = {
            "ping": "missed" if missed.kind == "missing" else "run_timeout",
            "expected_at": missed.expected_at,
            "deadline": missed.deadline,
        }
        if missed.slots > 1:
            details["slots"] = missed.slots
        if missed.rid:
            details["rid"] = missed.rid
        duration = entry.tracker.timeout if missed.kind == "run" else 0.0
        return Result(
            entry.check.id,
            missed.deadline,
            missed.deadline,
            duration,
            Outcome.TIMEOUT,
            missed.message,
            details=details,
        )


def _ping_message(ping: Ping, verdict: PingVerdict) -> str:
    where = f" from {ping.remote_addr}" if ping.remote_addr else ""
    if ping.kind is PingKind.START:
        return f"run started{where}"
    if ping.kind is PingKind.LOG:
        return f"log{where}"
    if ping.kind is PingKind.FAIL:
        status = "" if ping.exit_status is None else f" (exit status {ping.exit_status})"
        text = f"the job failed{status}{where}"
    else:
        text = f"ping{where}"
    if verdict.timing == "late" and verdict.expected_at is not None:
        text += f", {human_duration(ping.at - verdict.expected_at)} late"
    elif verdict.timing == "early" and verdict.expected_at is not None:
        text += f", {human_duration(verdict.expected_at - ping.at)} early"
    if verdict.duration is not None:
        text += f"; ran {human_duration(verdict.duration)}"
    return truncate(text, 500)
