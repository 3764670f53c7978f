"""The threshold verdict of one check: PENDING, UP, DEGRADED or DOWN from consecutive results.

This is the part of the state machine that only counts. It sees every result outside
maintenance and pauses, flapping or not, so when flapping ends the verdict is already there.

- A failure (outcome not ok) first uses up ``retries`` (the caller re-runs the check after
  ``retry_interval``); once they are used, each failure counts, and ``failure_threshold``
  counted failures in a row make it DOWN. Retries are not used while already DOWN. Any success
  resets both the failure count and the retries.
- ``success_threshold`` successes in a row (degraded ones included) end PENDING or DOWN, in
  DEGRADED when the last ``degraded_threshold`` of them were degraded, else in UP.
- From UP, ``degraded_threshold`` degraded successes in a row make it DEGRADED; from DEGRADED,
  ``success_threshold`` plain successes in a row bring it back UP.

``since`` is when the streak that produced the verdict began (its first result's start), so an
outage's duration runs from its first failed run to its first good one.
"""

from __future__ import annotations

from dataclasses import dataclass

from nyxmon.domain.alerting.flapping import DEGRADED, FAILED, OK
from nyxmon.domain.alerting.types import AlertPolicy, AlertState

__all__ = ["VERDICTS", "Thresholds"]

VERDICTS = frozenset({AlertState.PENDING, AlertState.UP, AlertState.DEGRADED, AlertState.DOWN})


@dataclass(slots=True)
class Thresholds:
    """Counters of consecutive results and the verdict they give."""

    health: AlertState = AlertState.PENDING
    since: float | None = None
    ok: int = 0  # successes in a row, degraded or not
    fast: int = 0  # plain (not degraded) successes in a row
    slow: int = 0  # degraded successes in a row
    failures: int = 0  # counted failures in a row
    retries_used: int = 0
    ok_start: float | None = None
    fast_start: float | None = None
    slow_start: float | None = None
    fail_start: float | None = None

    def __post_init__(self) -> None:
        if self.health not in VERDICTS:
            raise ValueError(f"a threshold verdict is one of {sorted(VERDICTS)}, not {self.health}")

    def observe(self, code: str, at: float, policy: AlertPolicy) -> bool:
        """Count one result (code from :func:`.flapping.classify`, started at ``at``).

        Returns True when the failure used a retry: it did not count, and the check should run
        again after the retry interval.
        """
        if code == FAILED:
            return self._failure(at, policy)
        if self.ok == 0:
            self.ok_start = at
        self.ok += 1
        self.failures = 0
        self.retries_used = 0
        self.fail_start = None
        if code == DEGRADED:
            if self.slow == 0:
                self.slow_start = at
            self.slow += 1
            self.fast, self.fast_start = 0, None
        else:
            assert code == OK, code
            if self.fast == 0:
                self.fast_start = at
            self.fast += 1
            self.slow, self.slow_start = 0, None
        self._judge_success(policy)
        return False

    def _failure(self, at: float, policy: AlertPolicy) -> bool:
        if self.fail_start is None:
            self.fail_start = at
        self.ok = self.fast = self.slow = 0
        self.ok_start = self.fast_start = self.slow_start = None
        if self.health is not AlertState.DOWN and self.retries_used < policy.retries:
            self.retries_used += 1
            return True
        self.failures += 1
        if self.failures >= policy.failure_threshold and self.health is not AlertState.DOWN:
            self.health, self.since = AlertState.DOWN, self.fail_start
        return False

    def _judge_success(self, policy: AlertPolicy) -> None:
        health = self.health
        if health in (AlertState.PENDING, AlertState.DOWN):
            if self.ok >= policy.success_threshold:
                slow = self.slow >= policy.degraded_threshold
                self.health = AlertState.DEGRADED if slow else AlertState.UP
                self.since = self.ok_start
        elif health is AlertState.UP:
            if self.slow >= policy.degraded_threshold:
                self.health, self.since = AlertState.DEGRADED, self.slow_start
        elif self.fast >= policy.success_threshold:
            self.health, self.since = AlertState.UP, self.fast_start

    def reset(self, now: float) -> None:
        """Forget every count: the verdict is PENDING again from ``now``."""
        self.health, self.since = AlertState.PENDING, now
        self.ok = self.fast = self.slow = self.failures = self.retries_used = 0
        self.ok_start = self.fast_start = self.slow_start = self.fail_start = None
