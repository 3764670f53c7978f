"""Maintenance windows: schedules in local time across DST changes, scopes, and next changes."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nyxmon.domain.alerting import (
    Cron,
    MaintenanceScope,
    MaintenanceWindow,
    OneOff,
    Weekly,
    active_windows,
    next_change,
)
from nyxmon.domain.alerting.schedules import Schedule, cron_problem
from nyxmon.domain.model import Check

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
EVERYTHING = MaintenanceScope(everything=True)
SAT, SUN = 5, 6


def at(tz: ZoneInfo, *parts: int, fold: int = 0) -> float:
    return datetime(*parts, tzinfo=tz, fold=fold).timestamp()  # type: ignore[misc]


def window(schedule: Schedule, scope: MaintenanceScope = EVERYTHING) -> MaintenanceWindow:
    return MaintenanceWindow("w", scope, schedule)


def check(
    check_id: str = "web.home", service: str = "Web", labels: dict[str, str] | None = None
) -> Check:
    return Check(check_id, service, "home", "http", 60.0, 10.0, labels=labels or {})


def periods(w: MaintenanceWindow, start: float, count: int) -> list[tuple[float, float]]:
    """The next ``count`` open periods after ``start``, via next_change."""
    found: list[tuple[float, float]] = []
    t = start
    while len(found) < count:
        opens = w.next_change(t)
        assert opens is not None
        assert w.active(opens)
        closes = w.next_change(opens)
        assert closes is not None
        assert not w.active(closes)
        found.append((opens, closes))
        t = closes
    return found


# -- one-off -------------------------------------------------------------------------------


def test_one_off_is_open_from_start_up_to_but_not_at_end() -> None:
    w = window(OneOff(1000.0, 2000.0))
    assert not w.active(999.0)
    assert w.active(1000.0)
    assert w.active(1999.9)
    assert not w.active(2000.0)
    assert w.next_change(0.0) == 1000.0
    assert w.next_change(1500.0) == 2000.0
    assert w.next_change(2000.0) is None


def test_one_off_takes_aware_datetimes_and_refuses_naive_ones() -> None:
    start = datetime(2026, 3, 29, 1, 0, tzinfo=BERLIN)
    schedule = OneOff(start, start + timedelta(hours=3))  # type: ignore[arg-type]
    assert schedule.start == start.timestamp()
    # aware datetimes add wall-clock time: 01:00 CET to 04:00 CEST is two real hours
    assert schedule.end - schedule.start == 2 * 3600
    with pytest.raises(ValueError, match="aware"):
        OneOff(datetime(2026, 1, 1), 5.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="after start"):
        OneOff(10.0, 10.0)


# -- cron across DST -----------------------------------------------------------------------


def test_daily_cron_in_berlin_across_spring_forward_starts_when_the_gap_ends() -> None:
    w = window(Cron("30 2 * * *", 3600.0, "Europe/Berlin"))
    found = periods(w, at(BERLIN, 2026, 3, 27, 12, 0), 3)
    assert found == [
        (at(BERLIN, 2026, 3, 28, 2, 30), at(BERLIN, 2026, 3, 28, 3, 30)),
        # 02:30 does not exist on 29 March: the window opens at 03:00 CEST, for one real hour
        (at(BERLIN, 2026, 3, 29, 3, 0), at(BERLIN, 2026, 3, 29, 4, 0)),
        (at(BERLIN, 2026, 3, 30, 2, 30), at(BERLIN, 2026, 3, 30, 3, 30)),
    ]


def test_daily_cron_in_berlin_across_fall_back_runs_once() -> None:
    w = window(Cron("30 2 * * *", 3600.0, "Europe/Berlin"))
    found = periods(w, at(BERLIN, 2026, 10, 24, 12, 0), 2)
    first_half_past_two = at(BERLIN, 2026, 10, 25, 2, 30, fold=0)
    second_half_past_two = at(BERLIN, 2026, 10, 25, 2, 30, fold=1)
    assert found[0] == (first_half_past_two, second_half_past_two)
    assert found[1][0] == at(BERLIN, 2026, 10, 26, 2, 30)
    assert not w.active(second_half_past_two + 60)


def test_cron_in_new_york_across_both_2026_changes() -> None:
    w = window(Cron("15 2 * * 0", 1800.0, "America/New_York"))  # Sundays 02:15
    spring = periods(w, at(NEW_YORK, 2026, 3, 7, 0, 0), 1)[0]
    assert spring == (at(NEW_YORK, 2026, 3, 8, 3, 0), at(NEW_YORK, 2026, 3, 8, 3, 30))
    fall = periods(w, at(NEW_YORK, 2026, 10, 31, 0, 0), 1)[0]
    assert fall == (at(NEW_YORK, 2026, 11, 1, 2, 15), at(NEW_YORK, 2026, 11, 1, 2, 45))


def test_cron_periods_longer_than_its_interval_merge_into_one() -> None:
    w = window(Cron("0 * * * *", 2 * 3600.0, "UTC"))
    assert w.active(0.0)
    t = datetime(2026, 6, 1, tzinfo=UTC).timestamp()
    assert w.active(t)
    # opens every hour for two hours: it never closes within the merge limit
    closes = w.next_change(t)
    assert closes is not None
    assert closes > t + 100 * 3600


def test_cron_aliases_are_accepted() -> None:
    w = window(Cron("@daily", 600.0, "UTC"))
    midnight = datetime(2026, 6, 1, tzinfo=UTC).timestamp()
    assert w.active(midnight + 599)
    assert not w.active(midnight + 600)


@pytest.mark.parametrize(
    ("expression", "text"),
    [
        pytest.param("30 2 * *", "five cron fields", id="four-fields"),
        pytest.param("0 30 2 * * *", "five cron fields", id="six-fields"),
        pytest.param("61 2 * * *", "invalid cron expression", id="minute-61"),
        pytest.param("0 0 30 2 *", "never matches", id="february-30"),
        pytest.param("@reboot", "five cron fields", id="reboot"),
    ],
)
def test_bad_cron_expressions_are_refused(expression: str, text: str) -> None:
    problem = cron_problem(expression)
    assert problem is not None
    assert text in problem
    with pytest.raises(ValueError, match=text):
        Cron(expression, 60.0)


def test_cron_refuses_an_unknown_zone_and_a_zero_duration() -> None:
    with pytest.raises(ValueError, match='unknown time zone "Mars/Olympus"'):
        Cron("0 2 * * *", 60.0, "Mars/Olympus")
    with pytest.raises(ValueError, match="duration"):
        Cron("0 2 * * *", 0.0)


# -- weekly across DST ---------------------------------------------------------------------


def test_weekend_window_in_berlin_is_one_hour_short_on_spring_forward_sunday() -> None:
    w = window(Weekly([SAT, SUN], time(2, 0), time(4, 0), "Europe/Berlin"))
    saturday, sunday = periods(w, at(BERLIN, 2026, 3, 27, 12, 0), 2)
    assert saturday == (at(BERLIN, 2026, 3, 28, 2, 0), at(BERLIN, 2026, 3, 28, 4, 0))
    assert sunday == (at(BERLIN, 2026, 3, 29, 3, 0), at(BERLIN, 2026, 3, 29, 4, 0))
    assert sunday[1] - sunday[0] == 3600


def test_weekend_window_in_berlin_is_one_hour_long_on_fall_back_sunday() -> None:
    w = window(Weekly([SUN], time(2, 0), time(4, 0), "Europe/Berlin"))
    (sunday,) = periods(w, at(BERLIN, 2026, 10, 24, 12, 0), 1)
    assert sunday == (at(BERLIN, 2026, 10, 25, 2, 0, fold=0), at(BERLIN, 2026, 10, 25, 4, 0))
    assert sunday[1] - sunday[0] == 3 * 3600


def test_weekly_window_in_new_york_across_both_2026_changes() -> None:
    w = window(Weekly([SUN], time(1, 0), time(3, 0), "America/New_York"))
    (spring,) = periods(w, at(NEW_YORK, 2026, 3, 7, 0, 0), 1)
    assert spring[1] - spring[0] == 3600
    (fall,) = periods(w, at(NEW_YORK, 2026, 10, 31, 0, 0), 1)
    assert fall[1] - fall[0] == 3 * 3600


def test_a_weekly_window_may_cross_midnight_and_belongs_to_its_start_day() -> None:
    friday_night = window(Weekly([4], time(22, 0), time(2, 0), "Europe/Berlin"))
    assert friday_night.active(at(BERLIN, 2026, 6, 5, 23, 0))  # Friday
    assert friday_night.active(at(BERLIN, 2026, 6, 6, 1, 59))  # Saturday morning
    assert not friday_night.active(at(BERLIN, 2026, 6, 6, 2, 0))
    assert not friday_night.active(at(BERLIN, 2026, 6, 6, 23, 0))  # Saturday night
    assert not friday_night.active(at(BERLIN, 2026, 6, 5, 1, 0))  # Friday morning


def test_equal_start_and_end_mean_the_whole_day() -> None:
    sundays = window(Weekly([SUN], time(0, 0), time(0, 0), "Europe/Berlin"))
    (fall_back_sunday,) = periods(sundays, at(BERLIN, 2026, 10, 20, 12, 0), 1)
    assert fall_back_sunday[1] - fall_back_sunday[0] == 25 * 3600


def test_weekly_refuses_no_days_bad_days_aware_times_and_unknown_zones() -> None:
    with pytest.raises(ValueError, match="days"):
        Weekly([], time(1), time(2))
    with pytest.raises(ValueError, match="days"):
        Weekly([7], time(1), time(2))
    with pytest.raises(ValueError, match="without zone"):
        Weekly([1], time(1, tzinfo=UTC), time(2))
    with pytest.raises(ValueError, match="unknown time zone"):
        Weekly([1], time(1), time(2), "Europe/Atlantis")


# -- scope and several windows -------------------------------------------------------------


def test_scope_matches_check_ids_services_or_every_listed_label() -> None:
    by_id = MaintenanceScope(checks=frozenset({"web.home"}))
    by_service = MaintenanceScope(services=frozenset({"Web"}))
    by_labels = MaintenanceScope(labels={"env": "prod", "team": "web"})
    assert by_id.applies_to(check())
    assert not by_id.applies_to(check("web.api"))
    assert by_service.applies_to(check())
    assert not by_service.applies_to(check(service="DNS"))
    assert by_labels.applies_to(check(labels={"env": "prod", "team": "web", "x": "y"}))
    assert not by_labels.applies_to(check(labels={"env": "prod"}))
    assert not MaintenanceScope().applies_to(check())
    assert EVERYTHING.applies_to(check())


def test_active_windows_lists_only_open_windows_that_cover_the_check() -> None:
    open_for_all = MaintenanceWindow("all", EVERYTHING, OneOff(0.0, 100.0))
    open_for_dns = MaintenanceWindow(
        "dns", MaintenanceScope(services=frozenset({"DNS"})), OneOff(0.0, 100.0)
    )
    later = MaintenanceWindow("later", EVERYTHING, OneOff(200.0, 300.0))
    windows = [open_for_all, open_for_dns, later]
    assert active_windows(windows, check(), 50.0) == (open_for_all,)
    assert active_windows(windows, check(), 150.0) == ()


def test_next_change_treats_overlapping_windows_as_one() -> None:
    first = MaintenanceWindow("a", EVERYTHING, OneOff(100.0, 300.0))
    second = MaintenanceWindow("b", EVERYTHING, OneOff(200.0, 400.0))
    other = MaintenanceWindow("c", MaintenanceScope(services=frozenset({"DNS"})), OneOff(50, 60))
    windows = [first, second, other]
    assert next_change(windows, check(), 0.0) == 100.0
    assert next_change(windows, check(), 100.0) == 400.0
    assert next_change(windows, check(), 400.0) is None
    assert next_change([other], check(), 0.0) is None
    assert next_change([], check(), 0.0) is None


SCHEDULES = [
    Cron("30 2 * * *", 3600.0, "Europe/Berlin"),
    Cron("*/20 1-3 * * 0", 900.0, "America/New_York"),
    Weekly([SAT, SUN], time(2, 0), time(4, 0), "Europe/Berlin"),
    Weekly([0, 2, 4], time(23, 30), time(0, 30), "America/New_York"),
]
YEAR_2026 = (
    datetime(2026, 1, 1, tzinfo=UTC).timestamp(),
    datetime(2027, 1, 1, tzinfo=UTC).timestamp(),
)


DST_CHANGES_2026 = [
    at(BERLIN, 2026, 3, 29, 3, 0),
    at(BERLIN, 2026, 10, 25, 2, 0, fold=1),
    at(NEW_YORK, 2026, 3, 8, 3, 0),
    at(NEW_YORK, 2026, 11, 1, 1, 0, fold=1),
]
TWO_DAYS = 2 * 86400.0
TIMES = st.one_of(
    st.floats(*YEAR_2026),
    st.sampled_from(DST_CHANGES_2026).flatmap(
        lambda change: st.floats(change - TWO_DAYS, change + TWO_DAYS)
    ),
).map(round)


@settings(max_examples=300, deadline=None)
@given(
    schedule=st.sampled_from(SCHEDULES),
    t=TIMES,
    fractions=st.lists(st.floats(0.001, 0.999), min_size=1, max_size=8),
)
def test_nothing_changes_before_next_change_and_something_does_at_it(
    schedule: Schedule, t: float, fractions: list[float]
) -> None:
    windows = [window(schedule)]
    inside = windows[0].active(t)
    change = next_change(windows, check(), t)
    assert change is not None
    assert change > t
    assert windows[0].active(change) is not inside
    for fraction in fractions:
        assert windows[0].active(t + (change - t) * fraction) is inside
