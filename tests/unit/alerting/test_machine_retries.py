"""Retries: failures that do not count yet, and the quick re-runs they ask for."""

from __future__ import annotations

from nyxmon.domain.alerting import AlertPolicy, AlertState

from .helpers import Run

S = AlertState


def test_a_failure_with_retries_left_asks_for_a_retry_and_does_not_count() -> None:
    run = Run(AlertPolicy(failure_threshold=1, retries=2, retry_interval=10.0), interval=60.0)
    run.results("oo")
    first = run.feed("f")
    assert (first.retry_in, first.state, first.notices) == (10.0, S.UP, ())
    second = run.feed("f")
    assert (second.retry_in, second.state) == (10.0, S.UP)
    third = run.feed("f")
    assert third.retry_in is None
    assert third.state is S.DOWN
    assert [str(n.kind) for n in third.notices] == ["down"]


def test_retries_come_before_the_failure_threshold() -> None:
    run = Run(AlertPolicy(failure_threshold=2, retries=2, retry_interval=5.0))
    run.results("oo fff")
    assert run.state is S.UP
    assert [d.retry_in for d in run.decisions[-3:]] == [5.0, 5.0, None]
    run.results("f")
    assert run.state is S.DOWN


def test_without_a_retry_interval_retries_run_at_the_check_interval() -> None:
    run = Run(AlertPolicy(retries=1), interval=45.0)
    run.results("oo")
    assert run.feed("f").retry_in == 45.0


def test_a_success_between_retries_gives_every_retry_back() -> None:
    run = Run(AlertPolicy(failure_threshold=1, retries=2, retry_interval=5.0))
    run.results("oo ff o ff o ff")
    assert run.state is S.UP
    assert run.notices == []
    assert run.decisions[-1].retry_in == 5.0


def test_retries_are_not_used_once_the_check_is_down() -> None:
    run = Run(AlertPolicy(failure_threshold=1, retries=1, retry_interval=5.0))
    run.results("oo ff")
    assert run.state is S.DOWN
    run.results("o")
    assert run.feed("f").retry_in is None
    assert run.kinds() == ["down"]


def test_a_new_check_uses_its_retries_before_its_first_verdict() -> None:
    run = Run(AlertPolicy(failure_threshold=1, retries=1, retry_interval=5.0))
    decision = run.feed("f")
    assert (decision.state, decision.retry_in) == (S.PENDING, 5.0)
    assert run.kinds(run.results("f")) == ["down"]
