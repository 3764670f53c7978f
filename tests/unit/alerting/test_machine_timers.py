"""Reminders while down, escalation after a while, and when the agent should tick next."""

from __future__ import annotations

from nyxmon.domain.alerting import AlertPolicy, AlertState, NoticeKind, Severity

from .helpers import Run

S = AlertState


def down_run(policy: AlertPolicy) -> Run:
    run = Run(policy, interval=60.0)
    run.results("oo ff")
    assert run.kinds() == ["down"]
    return run


def test_reminders_come_every_remind_every_and_stop_at_remind_max() -> None:
    run = down_run(AlertPolicy(remind_every=600.0, remind_max=2))
    down_at = run.now
    assert run.decisions[-1].next_tick == down_at + 600
    assert run.tick(599).notices == ()
    (first,) = run.tick(1).notices
    assert (first.kind, first.severity, first.state) == (
        NoticeKind.REMINDER,
        Severity.CRITICAL,
        S.DOWN,
    )
    assert first.details["reminder"] == 1
    assert first.message == "boom"
    assert run.decisions[-1].next_tick == down_at + 1200
    (second,) = run.tick(600).notices
    assert second.details["reminder"] == 2
    assert run.decisions[-1].next_tick is None
    assert run.tick(6000).notices == ()


def test_reminders_are_also_sent_from_results_that_arrive_late_enough() -> None:
    run = down_run(AlertPolicy(remind_every=150.0, remind_max=5))
    notices = run.results("fff")  # 180 s later
    assert [str(n.kind) for n in notices] == ["reminder"]


def test_a_new_outage_gets_its_reminders_back() -> None:
    run = down_run(AlertPolicy(remind_every=60.0, remind_max=1))
    run.tick(60)
    run.tick(60)
    assert run.kinds() == ["down", "reminder"]
    run.results("oo ff")
    run.tick(60)
    assert run.kinds() == ["down", "reminder", "recovered", "down", "reminder"]


def test_escalation_goes_once_to_the_second_route_after_escalate_after_down() -> None:
    policy = AlertPolicy(escalate_after=900.0, escalate_to=("pager",))
    run = down_run(policy)
    first_failure, down_at = run.now - 60, run.now
    assert run.decisions[-1].next_tick == down_at + 900
    assert run.tick(900 - 1).notices == ()
    (escalation,) = run.tick(1).notices
    assert escalation.kind is NoticeKind.ESCALATION
    assert escalation.routes == ("pager",)
    assert escalation.severity is Severity.CRITICAL
    assert escalation.since == first_failure
    assert run.tick(3600).notices == ()
    assert run.decisions[-1].next_tick is None


def test_escalation_is_forgotten_once_the_check_recovers() -> None:
    run = down_run(AlertPolicy(escalate_after=60.0, escalate_to=("pager",)))
    run.tick(60)
    run.results("oo")
    assert run.decisions[-1].next_tick is None
    run.results("ff")
    run.tick(120)
    assert run.kinds() == ["down", "escalation", "recovered", "down", "escalation"]


def test_next_tick_is_the_earlier_of_reminder_and_escalation() -> None:
    run = down_run(AlertPolicy(remind_every=300.0, escalate_after=200.0, escalate_to=("pager",)))
    assert run.decisions[-1].next_tick == run.now + 200


def test_no_reminders_or_ticks_while_up() -> None:
    run = Run(AlertPolicy(remind_every=60.0, escalate_after=60.0))
    run.results("oooo")
    assert run.decisions[-1].next_tick is None
    assert run.tick(10_000).notices == ()
