"""One human spelling of a span of time, shared by notices, pages, the API and the CLI."""

from __future__ import annotations

import pytest

from nyxmon.domain.durations import human_duration


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        pytest.param(0, "0 s", id="zero"),
        pytest.param(45.9, "45 s", id="seconds-round-down"),
        pytest.param(60, "1 min", id="one-minute"),
        pytest.param(125, "2 min 5 s", id="minutes-seconds"),
        pytest.param(2 * 3600 + 14 * 60 + 59, "2 h 14 min", id="two-largest-units"),
        pytest.param(3 * 86400 + 7200, "3 d 2 h", id="days"),
        pytest.param(86400 + 30, "1 d", id="zero-second-unit-dropped"),
        pytest.param(-5, "0 s", id="negative-clamped"),
        pytest.param(None, "—", id="none"),
        pytest.param(float("nan"), "—", id="not-a-number"),
    ],
)
def test_durations_read_like_people_write_them(seconds: float | None, text: str) -> None:
    assert human_duration(seconds) == text
