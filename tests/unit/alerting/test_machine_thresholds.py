"""Thresholds, first verdicts, recovery, degradation and the fields of the notices they send."""

from __future__ import annotations

import pytest

from nyxmon.domain.alerting import AlertPolicy, AlertState, NoticeKind, Severity
from nyxmon.errors import AlertingError

from .helpers import CHECK, START, Run, result

S = AlertState


def test_new_check_stays_pending_until_success_threshold_then_goes_up_silently() -> None:
    run = Run(AlertPolicy(success_threshold=3))
    run.results("oo")
    assert run.state is S.PENDING
    decision = run.feed("o")
    assert (decision.previous, decision.state, decision.changed) == (S.PENDING, S.UP, True)
    assert run.notices == []


def test_check_that_starts_failing_announces_down_once() -> None:
    run = Run(AlertPolicy(failure_threshold=2))
    assert run.results("f") == []
    assert run.state is S.PENDING
    (down,) = run.results("f")
    assert (down.kind, down.state, down.previous) == (NoticeKind.DOWN, S.DOWN, S.PENDING)
    assert run.results("ffff") == []


def test_up_check_goes_down_after_failure_threshold_consecutive_failures() -> None:
    run = Run(AlertPolicy(failure_threshold=3))
    run.results("oo")
    assert run.results("ff") == []
    assert run.state is S.UP
    assert run.kinds(run.results("f")) == ["down"]
    assert run.state is S.DOWN


def test_a_success_between_failures_resets_the_failure_count() -> None:
    run = Run(AlertPolicy(failure_threshold=3))
    run.results("oo ff o ff o ff")
    assert run.state is S.UP
    assert run.notices == []


@pytest.mark.parametrize("code", ["f", "e", "t"], ids=["fail", "error", "timeout"])
def test_every_outcome_but_ok_is_a_failure(code: str) -> None:
    run = Run(AlertPolicy(failure_threshold=2))
    run.results("oo" + code * 2)
    assert run.state is S.DOWN


def test_down_check_recovers_after_two_successes_with_the_outage_duration() -> None:
    run = Run(AlertPolicy(failure_threshold=2, success_threshold=2), interval=60.0)
    run.results("oo")
    first_failure = run.now + 60
    run.results("ffff")
    first_success = run.now + 60
    assert run.results("o") == []
    (recovered,) = run.results("o")
    assert recovered.kind is NoticeKind.RECOVERED
    assert (recovered.state, recovered.previous) == (S.UP, S.DOWN)
    assert recovered.severity is Severity.INFO
    assert recovered.duration == first_success - first_failure == 240.0
    assert recovered.since == first_success


def test_a_failure_while_recovering_keeps_the_check_down() -> None:
    run = Run(AlertPolicy(success_threshold=3))
    run.results("oo ff oo f oo")
    assert run.state is S.DOWN
    assert run.kinds() == ["down"]
    assert run.kinds(run.results("o")) == ["recovered"]


def test_send_on_resolved_false_comes_back_up_without_a_notice() -> None:
    run = Run(AlertPolicy(send_on_resolved=False))
    run.results("oo ff oo")
    assert run.state is S.UP
    assert run.kinds() == ["down"]
    assert run.kinds(run.results("ff")) == ["down"]


def test_slow_passes_make_an_up_check_degraded_and_fast_ones_bring_it_back() -> None:
    run = Run(AlertPolicy(degraded_threshold=3, success_threshold=2))
    run.results("oo dd")
    assert run.state is S.UP
    (degraded,) = run.results("d")
    assert (degraded.kind, degraded.severity, degraded.state) == (
        NoticeKind.DEGRADED,
        Severity.WARNING,
        S.DEGRADED,
    )
    assert run.results("o d o") == []
    assert run.state is S.DEGRADED
    (back,) = run.results("o")
    assert (back.kind, back.state, back.previous) == (NoticeKind.RECOVERED, S.UP, S.DEGRADED)


def test_notify_degraded_false_shows_degraded_but_sends_nothing() -> None:
    run = Run(AlertPolicy(notify_degraded=False))
    run.results("oo dd")
    assert run.state is S.DEGRADED
    run.results("oo")
    assert run.state is S.UP
    assert run.notices == []


def test_a_degraded_check_that_fails_goes_down() -> None:
    run = Run()
    run.results("oo dd ff")
    assert run.kinds() == ["degraded", "down"]
    assert run.state is S.DOWN


def test_a_down_check_can_recover_into_degraded() -> None:
    run = Run(AlertPolicy(success_threshold=2, degraded_threshold=2))
    run.results("oo ff dd")
    assert run.state is S.DEGRADED
    recovered = run.notices[-1]
    assert (recovered.kind, recovered.state) == (NoticeKind.RECOVERED, S.DEGRADED)
    assert run.kinds(run.results("oo")) == ["recovered"]
    assert run.notices[-1].state is S.UP


def test_a_check_that_starts_degraded_announces_it() -> None:
    run = Run()
    assert run.kinds(run.results("dd")) == ["degraded"]


def test_down_notice_carries_message_failing_conditions_severity_and_a_stable_key() -> None:
    run = Run(AlertPolicy(failure_threshold=2))
    run.results("oo")
    run.feed("f", message="500 Internal Server Error", failed=["[STATUS] (500) == 200"])
    decision = run.feed("f", message="503 Service Unavailable", failed=["[STATUS] (503) == 200"])
    (down,) = decision.notices
    assert down.key == f"{CHECK}:1:down:1"
    assert down.check_id == CHECK
    assert down.severity is Severity.CRITICAL
    assert down.message == "503 Service Unavailable"
    assert down.failing == ("[STATUS] (503) == 200",)
    assert down.at == run.now
    assert down.since == run.now - 60
    assert down.details["incident"] == 1


def test_each_outage_is_a_new_incident_and_keys_count_every_notice() -> None:
    run = Run()
    run.results("oo ff oo ff oo")
    assert [n.key for n in run.notices] == [
        f"{CHECK}:1:down:1",
        f"{CHECK}:1:recovered:2",
        f"{CHECK}:2:down:3",
        f"{CHECK}:2:recovered:4",
    ]


def test_a_result_of_another_check_is_refused() -> None:
    run = Run()
    with pytest.raises(AlertingError, match=r"other\.check"):
        run.machine.on_result(result(START, check_id="other.check"), START)


def test_since_is_when_the_state_began() -> None:
    run = Run()
    assert run.machine.since is None
    run.results("oo")
    up_since = run.now - 60
    assert run.machine.since == up_since
    run.results("o")
    assert run.machine.since == up_since


def test_without_send_on_resolved_down_to_degraded_is_announced_as_degraded() -> None:
    run = Run(AlertPolicy(send_on_resolved=False))
    run.results("oo ff dd")
    assert run.kinds() == ["down", "degraded"]
    run.results("oo")
    assert run.kinds() == ["down", "degraded"]
