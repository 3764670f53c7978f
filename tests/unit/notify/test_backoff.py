from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nyxmon.notify.backoff import RetryPolicy
from tests.unit.notify.fakes import FixedRandom

POLICY = RetryPolicy(base=5.0, cap=600.0, give_up_after=86400.0)


def test_the_ceiling_doubles_from_base_up_to_the_cap() -> None:
    assert [POLICY.ceiling(n) for n in range(1, 10)] == [
        5.0,
        10.0,
        20.0,
        40.0,
        80.0,
        160.0,
        320.0,
        600.0,
        600.0,
    ]
    assert POLICY.ceiling(10_000) == 600.0


def test_full_jitter_scales_the_ceiling_by_the_random_fraction() -> None:
    assert POLICY.delay(3, FixedRandom(0.5)) == 10.0
    assert POLICY.delay(3, FixedRandom(0.0)) == 0.0


@given(attempts=st.integers(min_value=1, max_value=200), seed=st.integers(0, 2**32))
def test_every_delay_lies_between_zero_and_the_ceiling(attempts: int, seed: int) -> None:
    delay = POLICY.delay(attempts, random.Random(seed))
    assert 0.0 <= delay <= POLICY.ceiling(attempts) <= POLICY.cap


def test_jitter_spreads_retries_of_many_senders() -> None:
    rng = random.Random(7)
    delays = {round(POLICY.delay(4, rng), 3) for _ in range(100)}
    assert len(delays) > 90


def test_the_next_attempt_is_now_plus_the_jittered_delay() -> None:
    at = POLICY.next_attempt(attempts=2, created_at=0.0, now=100.0, rng=FixedRandom(0.5))
    assert at == 105.0


def test_retry_after_is_a_lower_bound() -> None:
    rng = FixedRandom(0.5)
    assert POLICY.next_attempt(attempts=1, created_at=0, now=100, rng=rng, retry_after=60) == 160
    assert POLICY.next_attempt(attempts=1, created_at=0, now=100, rng=rng, retry_after=1) == 102.5


def test_past_the_horizon_it_gives_up() -> None:
    policy = RetryPolicy(base=5.0, cap=600.0, give_up_after=3600.0)
    rng = FixedRandom(1.0)
    assert policy.next_attempt(attempts=8, created_at=0, now=3000, rng=rng) == 3600.0
    assert policy.next_attempt(attempts=8, created_at=0, now=3001, rng=rng) is None


def test_a_retry_after_beyond_the_horizon_gives_up() -> None:
    assert (
        POLICY.next_attempt(attempts=1, created_at=0, now=10, rng=FixedRandom(0), retry_after=1e9)
        is None
    )


def test_max_attempts_gives_up_after_that_many_attempts() -> None:
    policy = RetryPolicy(max_attempts=3)
    rng = FixedRandom(0.5)
    assert policy.next_attempt(attempts=2, created_at=0, now=0, rng=rng) is not None
    assert policy.next_attempt(attempts=3, created_at=0, now=0, rng=rng) is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"base": 0}, "RetryPolicy.base", id="zero-base"),
        pytest.param({"cap": float("inf")}, "RetryPolicy.cap", id="infinite-cap"),
        pytest.param({"give_up_after": -1}, "RetryPolicy.give_up_after", id="negative-horizon"),
        pytest.param({"base": 10, "cap": 5}, "must be >= base", id="cap-below-base"),
        pytest.param({"max_attempts": 0}, "max_attempts", id="no-attempts"),
    ],
)
def test_bad_policies_are_refused_by_name(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]
