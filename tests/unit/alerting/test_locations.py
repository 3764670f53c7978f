"""The quorum rule: each location's view, and how the views combine into the check's verdict."""

from __future__ import annotations

import pytest

from nyxmon.domain.alerting import AlertPolicy, AlertState
from nyxmon.domain.locations import (
    Combined,
    LocationView,
    combine,
    combined_result,
    is_stale,
    observe,
    stale_after,
)
from nyxmon.domain.model import Check, Outcome, Result

LOCATIONS = ("eu", "us", "ap")
NOW = 10_000.0
LIMIT = stale_after(30.0, 15.0)  # 75 s


def view(location: str, state: AlertState, *, since: float = 9_000.0, last: float = NOW - 5):
    return LocationView("web", location, state, since, last, f"{state.value} here")


def combined(*views: LocationView, quorum: int = 2) -> Combined:
    return combine(views, LOCATIONS, quorum, now=NOW, stale_limit=LIMIT)


def result(at: float, outcome: Outcome = Outcome.OK, degraded: bool = False) -> Result:
    return Result(
        "web", at, at, 0.1, outcome, "boom" if outcome is not Outcome.OK else "", degraded=degraded
    )


def test_quorum_defaults_to_a_majority_of_the_locations() -> None:
    base = Check("web", "svc", "web", "http", 30.0, 5.0)
    assert base.quorum_needed == 1
    assert Check("web", "svc", "web", "http", 30.0, 5.0, locations=("a", "b")).quorum_needed == 2
    assert Check("web", "svc", "web", "http", 30.0, 5.0, locations=LOCATIONS).quorum_needed == 2
    assert Check("w", "s", "w", "http", 30.0, 5.0, locations=LOCATIONS, quorum=3).quorum_needed == 3


def test_down_from_fewer_locations_than_the_quorum_is_up_and_says_who_sees_it_down() -> None:
    got = combined(
        view("eu", AlertState.DOWN), view("us", AlertState.UP), view("ap", AlertState.UP)
    )
    assert got.state is AlertState.UP
    assert got.down == ("eu",)
    assert got.message == "down from eu only (1 of 3, quorum 2)"


def test_down_from_the_quorum_is_down_since_the_quorum_th_location_went_down() -> None:
    got = combined(
        view("eu", AlertState.DOWN, since=100.0),
        view("us", AlertState.DOWN, since=300.0),
        view("ap", AlertState.DOWN, since=200.0),
    )
    assert got.state is AlertState.DOWN
    assert got.since == 200.0  # the second (quorum 2) to go down
    assert got.down == ("eu", "us", "ap")


def test_degraded_takes_the_quorum_too_counting_the_locations_that_see_it_down() -> None:
    ups = [view(name, AlertState.UP) for name in LOCATIONS]
    assert combined(*ups).state is AlertState.UP
    one_slow = combined(ups[0], ups[1], view("ap", AlertState.DEGRADED))
    assert one_slow.state is AlertState.UP
    assert one_slow.message == "degraded from ap only (1 of 3, quorum 2)"
    got = combined(
        ups[0],
        view("us", AlertState.DOWN, since=300.0),
        view("ap", AlertState.DEGRADED, since=200.0),
    )
    assert got.state is AlertState.DEGRADED  # bad from two: one down, one slow
    assert got.since == 300.0


def test_a_stale_view_does_not_count_towards_the_quorum() -> None:
    got = combined(
        view("eu", AlertState.DOWN),
        view("us", AlertState.DOWN, last=NOW - LIMIT - 1),  # its location died
        view("ap", AlertState.UP),
    )
    assert got.state is AlertState.UP
    assert got.stale == ("us",)
    assert got.fresh == ("eu", "ap")


def test_a_whole_location_dying_leaves_the_others_to_decide() -> None:
    got = combined(
        view("eu", AlertState.DOWN, last=NOW - 500),
        view("us", AlertState.DOWN),
        view("ap", AlertState.DOWN),
    )
    assert got.state is AlertState.DOWN
    assert got.stale == ("eu",)


def test_no_fresh_view_is_pending_and_feeds_nothing() -> None:
    got = combined(view("eu", AlertState.DOWN, last=NOW - 500), view("us", AlertState.PENDING))
    assert got.state is AlertState.PENDING
    assert combined_result("web", got, NOW) is None


def test_views_of_locations_the_check_no_longer_names_are_ignored() -> None:
    got = combine(
        [view("eu", AlertState.UP), LocationView("web", "old", AlertState.DOWN, 1.0, NOW - 1)],
        LOCATIONS,
        1,
        now=NOW,
        stale_limit=LIMIT,
    )
    assert got.state is AlertState.UP


@pytest.mark.parametrize(
    ("state", "outcome", "degraded"),
    [
        pytest.param(AlertState.DOWN, Outcome.FAIL, False, id="down"),
        pytest.param(AlertState.DEGRADED, Outcome.OK, True, id="degraded"),
        pytest.param(AlertState.UP, Outcome.OK, False, id="up"),
    ],
)
def test_the_combined_verdict_is_fed_as_one_result(
    state: AlertState, outcome: Outcome, degraded: bool
) -> None:
    got = Combined(state, 500.0, "why", 2)
    fed = combined_result("web", got, NOW)
    assert fed is not None
    assert (fed.outcome, fed.degraded, fed.started_at, fed.message) == (
        outcome,
        degraded,
        500.0,
        "why",
    )


def test_a_view_follows_the_check_thresholds_and_resumes_from_its_counters() -> None:
    policy = AlertPolicy(failure_threshold=2, success_threshold=2)
    fresh = LocationView("web", "eu")
    first, retry = observe(fresh, result(100.0, Outcome.FAIL), policy, agent_id=7)
    assert (first.state, retry, first.agent_id, first.last_result_at) == (
        AlertState.PENDING,
        False,
        7,
        100.0,
    )
    # Another agent of the location takes the probes over: the streak goes on from the row.
    second, _ = observe(first, result(130.0, Outcome.FAIL), policy, agent_id=8)
    assert second.state is AlertState.DOWN
    assert second.since == 100.0
    assert second.message == "boom"


def test_a_location_recovering_goes_up_since_its_first_good_run() -> None:
    policy = AlertPolicy(failure_threshold=1, success_threshold=2)
    down, _ = observe(LocationView("web", "eu"), result(100.0, Outcome.FAIL), policy, agent_id=1)
    assert down.state is AlertState.DOWN
    one, _ = observe(down, result(130.0), policy, agent_id=1)
    assert one.state is AlertState.DOWN  # one success of two
    two, _ = observe(one, result(160.0), policy, agent_id=1)
    assert (two.state, two.since) == (AlertState.UP, 130.0)
    everyone_up = combined(two, view("us", AlertState.UP), view("ap", AlertState.UP))
    assert everyone_up.state is AlertState.UP


def test_a_view_uses_the_check_retries() -> None:
    policy = AlertPolicy(failure_threshold=1, retries=1)
    first, retry = observe(
        LocationView("web", "eu"), result(100.0, Outcome.FAIL), policy, agent_id=1
    )
    assert retry
    assert first.state is AlertState.PENDING


def test_unreadable_counters_start_afresh() -> None:
    broken = LocationView("web", "eu", AlertState.UP, 1.0, 2.0, counters={"health": "nonsense"})
    assert broken.thresholds().health is AlertState.PENDING


def test_a_view_without_results_is_stale() -> None:
    assert is_stale(LocationView("web", "eu"), NOW, LIMIT)
