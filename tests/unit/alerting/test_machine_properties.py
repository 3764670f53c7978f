"""Hypothesis: random results, ticks, windows and pauses never make the machine contradict itself.

Properties: no two consecutive identical notices (reminders aside), unique keys, a final state
that agrees with the last results, what was announced always matching a visible verdict, and a
machine restarted from a JSON snapshot at any point sending exactly what the original sends.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from nyxmon.domain.alerting import (
    AlertMachine,
    AlertPolicy,
    AlertState,
    MachineSnapshot,
    Notice,
    NoticeKind,
)
from nyxmon.domain.model import Outcome

from .helpers import CHECK, START, result

S = AlertState
OUTCOMES = {"o": Outcome.OK, "d": Outcome.OK, "f": Outcome.FAIL, "e": Outcome.ERROR}
VERDICTS = {S.UP, S.DEGRADED, S.DOWN}


@st.composite
def policies(draw: st.DrawFn, *, send_on_resolved: bool | None = None) -> AlertPolicy:
    high = draw(st.sampled_from([0.3, 0.5, 0.7, 1.0]))
    return AlertPolicy(
        failure_threshold=draw(st.integers(1, 4)),
        success_threshold=draw(st.integers(1, 4)),
        retries=draw(st.integers(0, 2)),
        retry_interval=draw(st.sampled_from([None, 5.0])),
        degraded_threshold=draw(st.integers(1, 3)),
        flap_window=draw(st.sampled_from([0, 3, 5, 8, 12])),
        flap_high=high,
        flap_low=high * draw(st.sampled_from([0.2, 0.5, 0.9])),
        remind_every=draw(st.sampled_from([None, 60.0, 300.0])),
        remind_max=draw(st.integers(0, 3)),
        escalate_after=draw(st.sampled_from([None, 120.0, 900.0])),
        escalate_to=("pager",),
        send_on_resolved=draw(st.booleans()) if send_on_resolved is None else send_on_resolved,
        notify_degraded=draw(st.booleans()),
    )


Event = tuple[str, float]
RESULT_CODES = st.sampled_from("oooddffe")
ACTIONS = st.one_of(
    RESULT_CODES,
    st.sampled_from(["tick", "tick", "maint_on", "maint_off", "pause", "resume"]),
)


def _flatten(runs: list[tuple[str, float, int]]) -> list[Event]:
    return [(action, advance) for action, advance, repeat in runs for _ in range(repeat)]


# Runs of the same event, so that outages last long enough for reminders and escalations.
EVENTS = st.lists(
    st.tuples(ACTIONS, st.sampled_from([1.0, 30.0, 60.0, 400.0]), st.integers(1, 8)),
    max_size=30,
).map(_flatten)
RESULTS_ONLY = st.lists(
    st.tuples(RESULT_CODES, st.sampled_from([5.0, 60.0]), st.integers(1, 6)), max_size=30
).map(_flatten)


@dataclass
class Replay:
    """Applies events to a machine, tracking the clock, the maintenance flag and notices."""

    machine: AlertMachine
    now: float = START
    maintenance: bool = False

    def apply(self, event: Event) -> tuple[Notice, ...]:
        action, advance = event
        self.now += advance
        m = self.machine
        if action == "tick":
            decision = m.on_tick(self.now, in_maintenance=self.maintenance)
        elif action in ("maint_on", "maint_off"):
            self.maintenance = action == "maint_on"
            decision = m.on_tick(self.now, in_maintenance=self.maintenance)
        elif action == "pause":
            decision = m.pause(self.now)
        elif action == "resume":
            decision = m.resume(self.now)
        else:
            res = result(self.now, OUTCOMES[action], degraded=action == "d")
            decision = m.on_result(res, self.now, in_maintenance=self.maintenance)
        assert decision.state is m.state
        assert decision.changed == (decision.state is not decision.previous)
        return decision.notices


def incident(notice: Notice) -> str:
    return notice.key.split(":")[1]


def visible(state: AlertState, policy: AlertPolicy) -> AlertState:
    return S.UP if state is S.DEGRADED and not policy.notify_degraded else state


def run_all(policy: AlertPolicy, events: list[Event]) -> tuple[Replay, list[Notice]]:
    replay = Replay(AlertMachine(CHECK, policy, 60.0))
    notices: list[Notice] = []
    for event in events:
        notices.extend(replay.apply(event))
        state = replay.machine.state
        if state in VERDICTS:
            assert replay.machine.announced is visible(state, policy), (event, state)
    return replay, notices


@settings(max_examples=300, deadline=None)
@given(policy=policies(), events=EVENTS)
def test_no_two_consecutive_identical_notices_and_keys_are_unique(
    policy: AlertPolicy, events: list[Event]
) -> None:
    _, notices = run_all(policy, events)
    assert len({n.key for n in notices}) == len(notices)
    sequences = [int(n.key.rsplit(":", 1)[1]) for n in notices]
    assert sequences == list(range(1, len(notices) + 1))
    for before, after in itertools.pairwise(notices):
        if after.kind is NoticeKind.REMINDER:
            continue
        same = (before.kind, before.state, incident(before)) == (
            after.kind,
            after.state,
            incident(after),
        )
        assert not same, (before, after)


@settings(max_examples=200, deadline=None)
@given(policy=policies(send_on_resolved=True), events=EVENTS)
def test_with_send_on_resolved_no_kind_and_state_repeats_back_to_back(
    policy: AlertPolicy, events: list[Event]
) -> None:
    _, notices = run_all(policy, events)
    pairs = [(n.kind, n.state) for n in notices if n.kind is not NoticeKind.REMINDER]
    for before, after in itertools.pairwise(pairs):
        assert before != after, pairs


@settings(max_examples=200, deadline=None)
@given(policy=policies(), events=EVENTS)
def test_reminders_and_escalations_stay_within_the_policy_per_outage(
    policy: AlertPolicy, events: list[Event]
) -> None:
    _, notices = run_all(policy, events)
    reminders = escalations = 0
    for notice in notices:
        if notice.kind is NoticeKind.DOWN:
            reminders = escalations = 0
        reminders += notice.kind is NoticeKind.REMINDER
        escalations += notice.kind is NoticeKind.ESCALATION
        assert reminders <= policy.remind_max
        assert escalations <= 1
        if notice.kind in (NoticeKind.REMINDER, NoticeKind.ESCALATION):
            assert notice.state is S.DOWN


@settings(max_examples=300, deadline=None)
@given(policy=policies(), events=RESULTS_ONLY, tail=st.sampled_from("odf"))
def test_final_state_agrees_with_the_last_results(
    policy: AlertPolicy, events: list[Event], tail: str
) -> None:
    steady = max(
        policy.flap_window,
        policy.retries + policy.failure_threshold,
        policy.success_threshold,
        policy.degraded_threshold,
    )
    replay, _ = run_all(policy, events)
    codes = [code for code, _ in events]
    # Whatever came before, the thresholds alone bound the state...
    last_failures = policy.retries + policy.failure_threshold
    if len(codes) >= last_failures and set(codes[-last_failures:]) <= {"f", "e"}:
        assert replay.machine.state in (S.DOWN, S.FLAPPING)
    last_successes = codes[-policy.success_threshold :]
    if len(codes) >= policy.success_threshold and set(last_successes) <= {"o", "d"}:
        assert replay.machine.state in (S.UP, S.DEGRADED, S.FLAPPING)
    # ...and a steady run of one outcome long enough settles it exactly.
    for _ in range(steady):
        replay.apply((tail, 60.0))
    expected = {"o": S.UP, "d": S.DEGRADED, "f": S.DOWN}[tail]
    assert replay.machine.state is expected


@settings(max_examples=200, deadline=None)
@given(policy=policies(), events=EVENTS, data=st.data())
def test_a_machine_restarted_from_its_snapshot_sends_the_same_later_notices(
    policy: AlertPolicy, events: list[Event], data: st.DataObject
) -> None:
    split = data.draw(st.integers(0, len(events)), label="split")
    original, notices = run_all(policy, events)

    first = Replay(AlertMachine(CHECK, policy, 60.0))
    before: list[Notice] = []
    for event in events[:split]:
        before.extend(first.apply(event))
    stored = json.loads(json.dumps(first.machine.snapshot().to_dict()))
    restarted = Replay(
        AlertMachine(CHECK, policy, 60.0, snapshot=MachineSnapshot.from_dict(stored)),
        now=first.now,
        maintenance=first.maintenance,
    )
    after: list[Notice] = []
    for event in events[split:]:
        after.extend(restarted.apply(event))
    assert before + after == notices
    assert restarted.machine.snapshot() == original.machine.snapshot()


@settings(max_examples=300, deadline=None)
@given(policy=policies(), events=RESULTS_ONLY)
def test_an_outage_starts_at_the_first_failing_run_of_the_streak_that_led_to_down(
    policy: AlertPolicy, events: list[Event]
) -> None:
    """The DOWN notice's ``since`` (which pages and the API show as the incident's start) is
    a failing run right after a passing one (or the first run), never the time of the change;
    while DOWN, the machine's ``since`` (kept on the transition row) is the same time."""
    replay = Replay(AlertMachine(CHECK, policy, 60.0))
    runs: list[tuple[float, str]] = []
    down_since: float | None = None
    for event in events:
        notices = replay.apply(event)
        runs.append((replay.now, event[0]))
        for notice in (n for n in notices if n.kind is NoticeKind.DOWN):
            starts = [t for t, _ in runs]
            at = starts.index(notice.since)
            assert runs[at][1] in "fe"
            assert at == 0 or runs[at - 1][1] in "od"
            down_since = notice.since
        if replay.machine.state is S.DOWN and replay.machine.announced is S.DOWN:
            assert replay.machine.since == down_since


@settings(max_examples=300, deadline=None)
@given(policy=policies(send_on_resolved=True), events=EVENTS)
def test_a_recovered_notice_lasts_from_the_start_its_problem_notice_gave(
    policy: AlertPolicy, events: list[Event]
) -> None:
    """RECOVERED's duration runs from the ``since`` of the notice that announced the problem
    (DOWN, or the DEGRADED state left behind) to the first good run: what incidents show."""
    _, notices = run_all(policy, events)
    opened: float | None = None
    for notice in notices:
        if notice.kind is NoticeKind.RECOVERED:
            assert opened is not None
            assert notice.duration == max(0.0, notice.since - opened)
        if notice.kind in (NoticeKind.DOWN, NoticeKind.DEGRADED, NoticeKind.RECOVERED):
            opened = notice.since
