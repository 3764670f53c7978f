"""Maintenance and pauses: results kept, nothing sent, and a truthful verdict afterwards."""

from __future__ import annotations

from nyxmon.domain.alerting import AlertPolicy, AlertState

from .helpers import Run

S = AlertState


def test_in_maintenance_the_state_is_maintenance_and_failures_send_nothing() -> None:
    run = Run()
    run.results("oo")
    run.maintenance = True
    decision = run.feed("f")
    assert (decision.state, decision.previous, decision.changed) == (S.MAINTENANCE, S.UP, True)
    run.results("fffffff")
    assert run.state is S.MAINTENANCE
    assert run.notices == []
    assert decision.retry_in is None


def test_an_outage_inside_the_window_sends_nothing_at_all() -> None:
    run = Run()
    run.results("oo")
    run.maintenance = True
    run.results("ffff oo")
    run.maintenance = False
    decision = run.tick()
    assert (decision.state, decision.previous) == (S.PENDING, S.MAINTENANCE)
    run.results("oooo")
    assert run.state is S.UP
    assert run.notices == []


def test_a_check_that_went_down_in_maintenance_and_stays_down_notifies_down_once() -> None:
    run = Run()
    run.results("oo")
    run.maintenance = True
    run.results("ffff")
    run.maintenance = False
    assert run.results("f") == []
    assert run.state is S.PENDING
    assert run.kinds(run.results("f")) == ["down"]
    assert run.results("ffff") == []


def test_down_before_maintenance_and_down_after_sends_no_duplicate() -> None:
    run = Run(AlertPolicy(remind_every=60.0, remind_max=10))
    run.results("oo ff")
    run.maintenance = True
    run.tick(30)
    run.tick(6000)
    run.results("ffff")
    run.maintenance = False
    run.results("ff")
    assert run.state is S.DOWN
    assert run.kinds() == ["down"]


def test_down_before_maintenance_and_fixed_during_it_sends_recovered_after() -> None:
    run = Run()
    run.results("oo ff")
    run.maintenance = True
    run.results("ff oo")
    run.maintenance = False
    run.results("oo")
    assert run.kinds() == ["down", "recovered"]


def test_no_reminders_or_escalation_inside_a_window() -> None:
    run = Run(AlertPolicy(remind_every=60.0, escalate_after=60.0, escalate_to=("pager",)))
    run.results("oo ff")
    run.maintenance = True
    assert run.tick(1).state is S.MAINTENANCE
    assert run.decisions[-1].next_tick is None
    for _ in range(10):
        run.tick(600)
    assert run.kinds() == ["down"]


def test_on_tick_enters_and_leaves_maintenance_without_a_result() -> None:
    run = Run()
    run.results("oo")
    run.maintenance = True
    entering = run.tick(5)
    assert (entering.previous, entering.state) == (S.UP, S.MAINTENANCE)
    assert run.machine.since == run.now
    run.maintenance = False
    leaving = run.tick(5)
    assert (leaving.previous, leaving.state, leaving.notices) == (S.MAINTENANCE, S.PENDING, ())


def test_flapping_interrupted_by_maintenance_is_closed_after_it() -> None:
    run = Run(AlertPolicy(flap_window=10))
    run.results("oo" + "of" * 6)
    assert run.kinds() == ["flapping"]
    run.maintenance = True
    run.results("ofof")
    run.maintenance = False
    run.results("oo")
    assert run.kinds() == ["flapping", "flapping_ended"]
    assert run.state is S.UP


def test_a_paused_check_ignores_results_and_sends_nothing() -> None:
    run = Run()
    run.results("oo")
    decision = run.machine.pause(run.now)
    assert (decision.previous, decision.state) == (S.UP, S.PAUSED)
    run.results("ffffff")
    run.maintenance = True
    run.tick(60)
    assert run.state is S.PAUSED
    assert run.notices == []


def test_pausing_twice_or_resuming_an_active_check_changes_nothing() -> None:
    run = Run()
    run.results("oo")
    assert not run.machine.resume(run.now).changed
    run.machine.pause(run.now)
    since = run.machine.since
    again = run.machine.pause(run.now + 10)
    assert (again.changed, run.machine.since) == (False, since)


def test_resume_starts_pending_and_keeps_what_was_announced() -> None:
    run = Run()
    run.results("oo ff")
    run.machine.pause(run.now)
    decision = run.machine.resume(run.now + 5)
    assert (decision.previous, decision.state) == (S.PAUSED, S.PENDING)
    run.results("ffff")
    assert run.kinds() == ["down"]  # still down: no second DOWN
    run.results("oo")
    assert run.kinds() == ["down", "recovered"]


def test_resume_inside_a_window_enters_maintenance_on_the_next_call() -> None:
    run = Run()
    run.results("oo")
    run.machine.pause(run.now)
    run.machine.resume(run.now)
    run.maintenance = True
    assert run.feed("f").state is S.MAINTENANCE
