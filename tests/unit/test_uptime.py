"""The one uptime window and its one text (shared by the API, pages, badges and status page)."""

from __future__ import annotations

import pytest

from nyxmon.domain.history.figures import DAY, HOUR
from nyxmon.domain.history.uptime import Uptime, percent_text, uptime_window

T = 472_222 * HOUR  # a whole hour (2023-11-14 22:00 UTC)


@pytest.mark.parametrize(
    ("now", "start"),
    [
        pytest.param(T + 1234.5, T - DAY, id="mid-hour: 24 whole hours and this one so far"),
        pytest.param(T, T - DAY, id="on the hour: exactly 24 hours"),
        pytest.param(T + HOUR - 0.001, T - DAY, id="end of the hour"),
    ],
)
def test_the_window_starts_on_a_whole_hour(now: float, start: float) -> None:
    assert uptime_window(now, DAY) == (start, now)


@pytest.mark.parametrize("window", [0.0, -1.0, float("nan"), float("inf")])
def test_a_window_must_be_a_positive_length(window: float) -> None:
    with pytest.raises(ValueError, match="window"):
        uptime_window(T, window)


def test_uptime_of_nothing_is_unknown_not_zero() -> None:
    assert Uptime("a.b", T - DAY, T, 0, 0, 0).pct is None
    assert Uptime("a.b", T - DAY, T, 4, 3, 1).pct == 75.0


@pytest.mark.parametrize(
    ("pct", "text"),
    [
        pytest.param(None, "—", id="no data"),
        pytest.param(100.0, "100 %", id="all"),
        pytest.param(99.999, "100 %", id="rounds up to all"),
        pytest.param(99.5, "99.5 %", id="trailing zero dropped"),
        pytest.param(92.0, "92 %", id="whole"),
        pytest.param(0.0, "0 %", id="none passed"),
        pytest.param(96.3855421686747, "96.39 %", id="two decimals"),
        # 99.125 is exact in binary: JavaScript's toFixed(2) says 99.13, so must we.
        pytest.param(99.125, "99.13 %", id="ties round up like toFixed"),
        # 1.005 is 1.00499999... in binary: toFixed(2) says 1.00.
        pytest.param(1.005, "1 %", id="the exact binary value decides"),
    ],
)
def test_percent_text_matches_the_dashboards_script(pct: float | None, text: str) -> None:
    assert percent_text(pct) == text
