"""Flap detection: the weighted share, hysteresis, and one notice per flap instead of a storm."""

from __future__ import annotations

import pytest

from nyxmon.domain.alerting import AlertPolicy, AlertState, NoticeKind, Severity
from nyxmon.domain.alerting.flapping import FlapDetector, classify, flap_share

from .helpers import Run

S = AlertState
FLAPPY = AlertPolicy(flap_window=10, flap_high=0.5, flap_low=0.25)


def test_share_is_zero_for_steady_results_and_one_for_alternating_ones() -> None:
    assert flap_share("") == 0.0
    assert flap_share("o") == 0.0
    assert flap_share("oooooo") == 0.0
    assert flap_share("ofofof") == pytest.approx(1.0)
    assert flap_share("od") == 1.0


def test_recent_changes_weigh_more_than_old_ones() -> None:
    old_change = flap_share("offfffffff")
    new_change = flap_share("oooooooooof")
    assert old_change == pytest.approx(0.8 / 9.0)
    assert new_change == pytest.approx(1.2 / 10.0)
    assert flap_share("fooooo") < flap_share("ooooof")


def test_degraded_counts_as_its_own_outcome() -> None:
    assert classify(True, False) == "o"
    assert classify(True, True) == "d"
    assert classify(False, True) == "f"
    assert flap_share("ododod") == pytest.approx(1.0)


def test_detector_waits_for_a_full_window() -> None:
    detector = FlapDetector(window=6, high=0.5, low=0.25)
    for code in "ofofo":
        detector.observe(code)
    assert not detector.flapping
    detector.observe("f")
    assert detector.flapping


def test_detector_refuses_unknown_codes() -> None:
    with pytest.raises(ValueError, match="o, d and f"):
        FlapDetector(window=5, high=0.5, low=0.2, history="oxo")


def test_alternating_results_enter_flapping_with_one_warning() -> None:
    run = Run(FLAPPY)
    run.results("oo" + "ff" + "oo" + "ff" + "o")
    assert run.state is not S.FLAPPING
    run.results("fofo")
    assert run.state is S.FLAPPING
    flapping = [n for n in run.notices if n.kind is NoticeKind.FLAPPING]
    assert len(flapping) == 1
    assert flapping[0].severity is Severity.WARNING
    assert flapping[0].details["flap_share"] > 0.5


def test_no_down_or_recovered_storm_while_flapping() -> None:
    run = Run(AlertPolicy(flap_window=10, failure_threshold=1, success_threshold=1))
    run.results("of" * 30)
    kinds = run.kinds()
    # the first few changes alert, then one FLAPPING replaces the rest of the storm
    assert kinds.count("flapping") == 1
    flapping_at = kinds.index("flapping")
    assert kinds[flapping_at + 1 :] == []
    assert len(kinds) <= 11


def test_flapping_ends_below_the_low_threshold_and_settles_to_what_results_say() -> None:
    run = Run(FLAPPY)
    run.results("oo" + "of" * 6)
    assert run.state is S.FLAPPING
    before = len(run.notices)
    run.results("oooo")
    assert run.state is S.FLAPPING  # the share is between low and high: still flapping
    run.results("oooooo")
    assert run.state is S.UP
    assert run.kinds(run.notices[before:]) == ["flapping_ended"]
    ended = run.notices[-1]
    assert (ended.state, ended.previous, ended.severity) == (S.UP, S.FLAPPING, Severity.INFO)


def test_flapping_that_ends_down_sends_flapping_ended_then_down() -> None:
    run = Run(FLAPPY)
    run.results("oo" + "of" * 6)
    before = len(run.notices)
    run.results("f" * 10)
    assert run.state is S.DOWN
    assert run.kinds(run.notices[before:]) == ["flapping_ended", "down"]


def test_down_before_flapping_and_down_after_sends_no_second_down() -> None:
    run = Run(FLAPPY)
    run.results("oo ff")
    assert run.kinds() == ["down"]
    run.results("of" * 6 + "f" * 10)
    assert run.kinds() == ["down", "flapping", "flapping_ended"]
    assert run.state is S.DOWN


def test_down_before_flapping_and_up_after_sends_recovered() -> None:
    run = Run(FLAPPY)
    run.results("oo ff" + "of" * 6 + "o" * 10)
    assert run.kinds() == ["down", "flapping", "flapping_ended", "recovered"]


def test_a_flap_is_one_incident_with_its_end() -> None:
    run = Run(FLAPPY)
    run.results("oo" + "of" * 6 + "o" * 10)
    flapping, ended = run.notices
    assert flapping.key.split(":")[1] == ended.key.split(":")[1] == "1"


def test_flap_window_zero_switches_detection_off() -> None:
    run = Run(AlertPolicy(flap_window=0, failure_threshold=1, success_threshold=1))
    run.results("of" * 20)
    assert "flapping" not in run.kinds()
    assert run.kinds().count("down") == 20


def test_a_new_check_that_flaps_before_any_verdict_stays_flapping_until_one() -> None:
    run = Run(AlertPolicy(flap_window=6, failure_threshold=3, success_threshold=3))
    run.results("ofofof")
    assert run.state is S.FLAPPING
    run.results("oo")  # steadier, but still no verdict: nothing to settle into yet
    assert run.state is S.FLAPPING
    run.results("ooo")
    assert run.state is S.UP
    assert run.kinds() == ["flapping", "flapping_ended"]
