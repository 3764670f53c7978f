"""The push deadline timers on a real runtime loop with an injected wall clock: a deadline
fires once the clock reaches it (not before), a moved deadline fires at its new time only, an
earlier deadline wakes a sleeping timer, a disarmed one never fires."""

from __future__ import annotations

import queue
from collections.abc import Iterator

import pytest

from nyxmon.agent.deadlines import DeadlineTimers
from nyxmon.runtime import Runtime
from nyxmon.service_layer.messages import PushDeadline

T0 = 1_750_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def timers() -> Iterator[tuple[DeadlineTimers, Clock, queue.Queue[PushDeadline]]]:
    fired: queue.Queue[PushDeadline] = queue.Queue()
    clock = Clock()
    with Runtime(name="test-deadlines") as runtime:
        subject = DeadlineTimers(runtime, fired.put, clock=clock)
        task = runtime.spawn(subject.run)
        yield subject, clock, fired
        task.cancel()


def nothing_fires(fired: queue.Queue[PushDeadline]) -> bool:
    try:
        fired.get(timeout=0.2)
    except queue.Empty:
        return True
    return False


def test_a_deadline_fires_once_the_clock_reaches_it(timers: tuple) -> None:  # type: ignore[type-arg]
    subject, clock, fired = timers
    subject.arm("a", T0 + 10)
    assert nothing_fires(fired)
    clock.now = T0 + 10
    subject.arm("wake", T0 + 5)  # earlier than what the loop sleeps until: wakes it
    got = {fired.get(timeout=5), fired.get(timeout=5)}
    assert got == {PushDeadline("a", T0 + 10), PushDeadline("wake", T0 + 5)}
    assert nothing_fires(fired), "each deadline fires once"


def test_a_moved_deadline_fires_at_its_new_time_only(timers: tuple) -> None:  # type: ignore[type-arg]
    subject, clock, fired = timers
    subject.arm("a", T0 + 10)
    subject.arm("a", T0 + 20)
    clock.now = T0 + 15
    subject.arm("b", T0 + 1)  # earlier than anything armed: wakes the loop at once
    assert fired.get(timeout=5) == PushDeadline("b", T0 + 1)
    assert nothing_fires(fired), "a moved to T0 + 20"
    clock.now = T0 + 20
    subject.arm("c", T0 + 2)
    assert {fired.get(timeout=5), fired.get(timeout=5)} == {
        PushDeadline("a", T0 + 20),
        PushDeadline("c", T0 + 2),
    }


def test_a_disarmed_deadline_never_fires(timers: tuple) -> None:  # type: ignore[type-arg]
    subject, clock, fired = timers
    subject.arm("a", T0 + 10)
    subject.disarm("a")
    clock.now = T0 + 30
    subject.arm("b", T0 + 1)
    assert fired.get(timeout=5) == PushDeadline("b", T0 + 1)
    assert nothing_fires(fired)
    assert subject.statistics().armed == 0
