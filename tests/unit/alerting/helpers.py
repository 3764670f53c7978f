"""A driver for one AlertMachine with an injected clock: results and ticks, notices collected."""

from __future__ import annotations

from collections.abc import Sequence

from nyxmon.domain.alerting import AlertMachine, AlertPolicy, AlertState, Decision, Notice
from nyxmon.domain.alerting.snapshot import MachineSnapshot
from nyxmon.domain.model import Outcome, Result

CHECK = "web.home"
START = 1_800_000_000.0


def result(
    at: float,
    outcome: Outcome = Outcome.OK,
    *,
    degraded: bool = False,
    message: str = "",
    failed: Sequence[str] = (),
    check_id: str = CHECK,
) -> Result:
    details = {"failed_conditions": list(failed)} if failed else {}
    return Result(
        check_id=check_id,
        scheduled_at=at,
        started_at=at,
        duration=0.05,
        outcome=outcome,
        message=message,
        details=details,
        degraded=degraded,
    )


class Run:
    """Feeds one machine results ``step`` seconds apart and keeps every decision and notice."""

    def __init__(
        self,
        policy: AlertPolicy | None = None,
        *,
        interval: float = 60.0,
        step: float | None = None,
        snapshot: MachineSnapshot | None = None,
        now: float = START,
    ) -> None:
        self.policy = AlertPolicy() if policy is None else policy
        self.interval = interval
        self.step = interval if step is None else step
        self.now = now
        self.machine = AlertMachine(CHECK, self.policy, interval, snapshot=snapshot)
        self.decisions: list[Decision] = []
        self.notices: list[Notice] = []
        self.maintenance = False

    def _record(self, decision: Decision) -> Decision:
        self.decisions.append(decision)
        self.notices.extend(decision.notices)
        return decision

    def feed(self, code: str, *, message: str = "", failed: Sequence[str] = ()) -> Decision:
        """One result: ``o`` ok, ``d`` ok but degraded, ``f`` fail, ``e`` error, ``t`` timeout."""
        self.now += self.step
        outcome = {
            "o": Outcome.OK,
            "d": Outcome.OK,
            "f": Outcome.FAIL,
            "e": Outcome.ERROR,
            "t": Outcome.TIMEOUT,
        }[code]
        text = message or ("boom" if outcome is not Outcome.OK else "fine")
        res = result(self.now, outcome, degraded=code == "d", message=text, failed=failed)
        return self._record(self.machine.on_result(res, self.now, in_maintenance=self.maintenance))

    def results(self, codes: str) -> list[Notice]:
        """Feed each letter of ``codes``; returns the notices they produced."""
        before = len(self.notices)
        for code in codes:
            if code != " ":
                self.feed(code)
        return self.notices[before:]

    def tick(self, advance: float = 0.0) -> Decision:
        self.now += advance
        return self._record(self.machine.on_tick(self.now, in_maintenance=self.maintenance))

    @property
    def state(self) -> AlertState:
        return self.machine.state

    def kinds(self, notices: Sequence[Notice] | None = None) -> list[str]:
        return [str(n.kind) for n in (self.notices if notices is None else notices)]
