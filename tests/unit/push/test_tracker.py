"""Push schedules and deadlines with made-up instants: no clock, no sleeping."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from nyxmon.domain.push import (
    PingKind,
    PushSchedule,
    PushTracker,
    generate_ping_key,
    key_problem,
    parse_ping_path,
)

T0 = datetime(2025, 3, 10, 12, 0, tzinfo=UTC).timestamp()


def tracker(period: float = 60.0, grace: float = 10.0, timeout: float = 30.0) -> PushTracker:
    return PushTracker(PushSchedule(period, grace), timeout, anchor=T0)


def test_the_deadline_is_the_next_expected_time_plus_grace() -> None:
    t = tracker()
    assert t.deadline() == T0 + 70
    assert t.due(T0 + 69.999) == []
    (missed,) = t.due(T0 + 70)
    assert (missed.kind, missed.expected_at, missed.deadline) == ("missing", T0 + 60, T0 + 70)
    assert "no ping: expected by 2025-03-10 12:01:00 UTC + 10 s grace" in missed.message


def test_a_missed_deadline_is_reported_once_and_the_next_slot_is_armed() -> None:
    t = tracker()
    assert len(t.due(T0 + 70)) == 1
    assert t.due(T0 + 70) == []
    assert t.deadline() == T0 + 130


def test_a_long_silence_is_one_result_counting_the_slots() -> None:
    t = tracker()
    (missed,) = t.due(T0 + 60 * 10 + 10)  # slots at 60, 120, ... 600 all passed
    assert missed.slots == 10
    assert t.deadline() == T0 + 670
    assert t.deadline() > T0 + 610


def test_a_ping_moves_the_deadline_a_period_after_it() -> None:
    t = tracker()
    verdict = t.on_ping(PingKind.SUCCESS, T0 + 55)
    assert verdict.timing == "on time"
    assert t.deadline() == T0 + 55 + 60 + 10
    assert t.due(T0 + 124) == []


@pytest.mark.parametrize(
    ("at", "timing"),
    [
        pytest.param(T0 + 120 - 11, "early", id="more-than-grace-early"),
        pytest.param(T0 + 120 - 10, "on time", id="grace-early"),
        pytest.param(T0 + 120, "on time", id="exact"),
        pytest.param(T0 + 120.5, "late", id="in-the-grace"),
    ],
)
def test_late_and_early_pings_are_told_apart(at: float, timing: str) -> None:
    t = tracker()
    t.on_ping(PingKind.SUCCESS, T0 + 60)
    assert t.on_ping(PingKind.SUCCESS, at).timing == timing


def test_the_first_ping_is_never_early() -> None:
    assert tracker().on_ping(PingKind.SUCCESS, T0 + 1).timing == "on time"


def test_start_and_log_do_not_move_the_schedule() -> None:
    t = tracker(timeout=600)
    t.on_ping(PingKind.START, T0 + 5)
    t.on_ping(PingKind.LOG, T0 + 6)
    assert t.deadline() == T0 + 70


def test_a_start_without_an_end_fails_after_the_timeout() -> None:
    t = tracker(period=3600, grace=0, timeout=30)
    t.on_ping(PingKind.START, T0 + 5, rid="a")
    assert t.deadline() == T0 + 35
    (missed,) = t.due(T0 + 35)
    assert (missed.kind, missed.rid) == ("run", "a")
    assert "did not end within its timeout (30 s)" in missed.message
    assert t.deadline() == T0 + 3600


def test_rid_pairs_the_end_with_its_start() -> None:
    t = tracker(timeout=600)
    t.on_ping(PingKind.START, T0 + 1, rid="a")
    t.on_ping(PingKind.START, T0 + 2, rid="b")
    verdict = t.on_ping(PingKind.FAIL, T0 + 12, rid="b")
    assert (verdict.duration, verdict.started_at) == (10, T0 + 2)
    assert set(t.open_runs) == {"a"}
    assert t.on_ping(PingKind.SUCCESS, T0 + 20).duration is None  # no rid: no "" run open


def test_starts_are_bounded() -> None:
    t = tracker(timeout=600)
    for n in range(100):
        t.on_ping(PingKind.START, T0 + n, rid=str(n))
    assert len(t.open_runs) == 64
    assert "0" not in t.open_runs


def test_cron_expects_the_next_matching_time_in_its_zone() -> None:
    schedule = PushSchedule(86400, grace=300, cron="30 2 * * *", tz="Europe/Berlin")
    t = PushTracker(schedule, 60, anchor=T0)  # 13:00 in Berlin on March 10th
    expected = datetime(2025, 3, 11, 2, 30, tzinfo=ZoneInfo("Europe/Berlin")).timestamp()
    assert t.deadline() == expected + 300
    t.on_ping(PingKind.SUCCESS, expected + 20)
    assert t.expected_at == expected + 86400


def test_cron_across_the_spring_forward_night() -> None:
    # Berlin skips 02:00-03:00 on 2025-03-30: the 02:30 slot starts when the gap ends
    schedule = PushSchedule(86400, cron="30 2 * * *", tz="Europe/Berlin")
    before = datetime(2025, 3, 29, 12, 0, tzinfo=UTC).timestamp()
    after_jump = datetime(2025, 3, 30, 3, 0, tzinfo=ZoneInfo("Europe/Berlin")).timestamp()
    assert schedule.next_after(before) == after_jump


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        pytest.param({"period": 0}, "period", id="zero-period"),
        pytest.param({"period": 60, "grace": -1}, "grace", id="negative-grace"),
        pytest.param({"period": 60, "cron": "61 * * * *"}, "cron", id="bad-cron"),
        pytest.param({"period": 60, "cron": "* * * * *", "tz": "Mars/Base"}, "time zone", id="tz"),
    ],
)
def test_a_bad_schedule_is_refused_naming_the_field(
    kwargs: dict[str, object], problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        PushSchedule(**kwargs)  # type: ignore[arg-type]


def test_generated_keys_are_random_and_valid() -> None:
    keys = {generate_ping_key() for _ in range(1000)}
    assert len(keys) == 1000
    assert all(key_problem(key) is None and len(key) == 22 for key in keys)


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        pytest.param("", "empty", id="empty"),
        pytest.param("a" * 129, "at most 128", id="long"),
        pytest.param("a/b", "may only hold", id="slash"),
        pytest.param("..", "may only hold", id="dots"),
        pytest.param("ключ", "may only hold", id="non-ascii"),
    ],
)
def test_bad_keys_are_refused(key: str, problem: str) -> None:
    found = key_problem(key)
    assert found is not None
    assert problem in found


@pytest.mark.parametrize(
    ("path", "parsed"),
    [
        ("k", ("k", PingKind.SUCCESS, None)),
        ("k/start", ("k", PingKind.START, None)),
        ("k/fail", ("k", PingKind.FAIL, None)),
        ("k/log", ("k", PingKind.LOG, None)),
        ("k/0", ("k", PingKind.SUCCESS, 0)),
        ("k/7", ("k", PingKind.FAIL, 7)),
        ("k/255", ("k", PingKind.FAIL, 255)),
        ("k/256", None),
        ("k/0255", None),
        ("k/", ("k", PingKind.SUCCESS, None)),
        ("", None),
        ("k/start/x", None),
        ("k/²", None),
    ],
)
def test_ping_paths(path: str, parsed: object) -> None:
    assert parse_ping_path(path) == parsed
