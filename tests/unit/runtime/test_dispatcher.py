"""Dispatcher and sessions: seed 003's cases plus lag, bounded queues and a stress test."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from nyxmon.runtime import (
    DeadlockError,
    DiscardedError,
    Dispatcher,
    DispatcherCrashedError,
    QueueFullError,
    RuntimeClosedError,
    Session,
    SessionEvent,
    ShutdownStatus,
    TransitionError,
)


class Door(Session):
    """closed --open--> open --close--> closed; --lock--> locked (final)."""

    initial = "closed"
    final = frozenset({"locked"})
    transitions: ClassVar[dict[tuple[str, str], str]] = {
        ("closed", "open"): "open",
        ("open", "close"): "closed",
        ("closed", "lock"): "locked",
    }

    def __init__(self, session_id: Any) -> None:
        super().__init__(session_id)
        self.entries: list[str] = []

    def enter_open(self, event: SessionEvent | None) -> None:
        self.entries.append("open")

    def enter_closed(self, event: SessionEvent | None) -> None:
        self.entries.append("closed")

    def enter_locked(self, event: SessionEvent | None) -> None:
        self.result = list(self.entries)


class Forever(Session):
    """Never finishes on its own."""

    def on_start(self) -> None:
        self.state = "waiting"

    def on_event(self, event: SessionEvent) -> None:
        if event.kind == "finish":
            self.finish(event.payload)


class Gate(Session):
    """Blocks the dispatcher thread inside a handler until released (for stop/queue tests)."""

    def __init__(self, session_id: Any, entered: threading.Event, release: threading.Event):
        super().__init__(session_id)
        self.entered, self.release = entered, release

    def on_start(self) -> None:
        self.state = "open"

    def on_event(self, event: SessionEvent) -> None:
        if event.kind == "block":
            self.entered.set()
            self.release.wait(10)


@pytest.fixture
def dispatcher() -> Iterator[Dispatcher]:
    d = Dispatcher("test-dispatcher").start()
    yield d
    d.stop(timeout=2)


def blocked(d: Dispatcher) -> tuple[threading.Event, threading.Event]:
    """Park the dispatcher thread in a handler; returns (entered, release)."""
    entered, release = threading.Event(), threading.Event()
    d.register(Gate("gate", entered, release))
    d.post(SessionEvent("gate", "block"))
    assert entered.wait(5)
    return entered, release


def test_events_drive_transitions_and_entry_actions(dispatcher: Dispatcher) -> None:
    completion = dispatcher.register(Door("front"))
    for kind in ("open", "close", "lock"):
        dispatcher.post(SessionEvent("front", kind))
    assert completion.wait(5) == ["closed", "open", "closed"]


@pytest.mark.anyio
async def test_a_completion_can_be_awaited_from_async_code(dispatcher: Dispatcher) -> None:
    completion = dispatcher.register(Forever("f"))
    dispatcher.post(SessionEvent("f", "finish", "awaited"))
    assert await completion == "awaited"


def test_waiting_on_a_completion_from_the_dispatcher_thread_raises_deadlock_error(
    dispatcher: Dispatcher,
) -> None:
    class Impatient(Session):
        def on_start(self) -> None:
            try:
                self._require_dispatcher().register(Forever("inner")).wait(1)
            except DeadlockError as exc:
                self.finish(str(exc))

    message = dispatcher.register(Impatient("impatient")).wait(5)
    assert "own thread" in message


def test_children_started_from_an_entry_action_run_fire_and_forget(
    dispatcher: Dispatcher,
) -> None:
    done = threading.Event()

    class Child(Session):
        def on_start(self) -> None:
            done.set()
            self.finish()

    class Parent(Session):
        def on_start(self) -> None:
            self.spawn_child(Child("child"))
            self.finish("parent done")

    assert dispatcher.register(Parent("parent")).wait(5) == "parent done"
    assert done.wait(5)


def test_events_for_unknown_or_finished_sessions_are_counted_and_dropped(
    dispatcher: Dispatcher,
) -> None:
    completion = dispatcher.register(Forever("f"))
    dispatcher.post(SessionEvent("f", "finish", 1))
    assert completion.wait(5) == 1
    dispatcher.post(SessionEvent("f", "finish", 2))  # late: the session is finished
    dispatcher.post(SessionEvent("nobody", "hello"))
    dispatcher.submit(lambda: None).wait(5)
    assert dispatcher.statistics().dropped_unknown == 2
    assert completion.wait(0) == 1


def test_a_handler_that_raises_fails_only_its_session(
    dispatcher: Dispatcher, caplog: pytest.LogCaptureFixture
) -> None:
    class Fragile(Session):
        def on_start(self) -> None:
            self.state = "up"

        def on_event(self, event: SessionEvent) -> None:
            raise ValueError(f"cannot handle {event.kind}")

    fragile = dispatcher.register(Fragile("fragile"))
    healthy = dispatcher.register(Door("door"))
    dispatcher.post(SessionEvent("fragile", "poke"))
    with pytest.raises(ValueError, match="cannot handle poke"):
        fragile.wait(5)
    dispatcher.post(SessionEvent("door", "lock"))
    assert healthy.wait(5) == ["closed"]
    stats = dispatcher.statistics()
    assert stats.sessions_failed == 1
    assert stats.state == "running"


def test_an_event_without_a_transition_fails_the_session_naming_state_and_event(
    dispatcher: Dispatcher,
) -> None:
    completion = dispatcher.register(Door("d"))
    dispatcher.post(SessionEvent("d", "close"))  # closed has no "close" transition
    with pytest.raises(TransitionError, match="state 'closed' has no transition for event 'close'"):
        completion.wait(5)


def test_a_second_session_with_an_active_id_is_refused(dispatcher: Dispatcher) -> None:
    dispatcher.register(Forever("same"))
    with pytest.raises(ValueError, match="already active"):
        dispatcher.register(Forever("same")).wait(5)


def test_submit_runs_a_function_on_the_dispatcher_thread(dispatcher: Dispatcher) -> None:
    assert dispatcher.submit(dispatcher.current).wait(5) is True
    assert dispatcher.current() is False


def test_draining_stop_waits_for_sessions_to_finish() -> None:
    d = Dispatcher().start()
    completion = d.register(Forever("f"))
    threading.Timer(0.05, d.post, args=(SessionEvent("f", "finish", "drained"),)).start()
    assert d.stop(timeout=5, drain=True) is ShutdownStatus.CLEAN
    assert completion.wait(0) == "drained"


def test_draining_stop_discards_sessions_that_outlive_the_timeout() -> None:
    d = Dispatcher().start()
    completion = d.register(Forever("f"))
    d.submit(lambda: None).wait(5)
    assert d.stop(timeout=0.1, drain=True) is ShutdownStatus.DRAINED_WITH_DISCARDS
    with pytest.raises(DiscardedError):
        completion.wait(1)


def test_non_draining_stop_cancels_active_sessions() -> None:
    d = Dispatcher().start()
    completion = d.register(Forever("f"))
    d.submit(lambda: None).wait(5)
    assert d.stop(timeout=2) is ShutdownStatus.CANCELLED
    with pytest.raises(DiscardedError):
        completion.wait(1)


def test_stop_abandons_a_handler_that_blocks_past_the_timeout() -> None:
    d = Dispatcher().start()
    waiter = d.register(Forever("f"))
    _, release = blocked(d)
    try:
        assert d.stop(timeout=0.1) is ShutdownStatus.TIMEOUT
        with pytest.raises(DiscardedError):
            waiter.wait(1)
    finally:
        release.set()


def test_a_crash_of_the_dispatch_loop_fails_every_waiter() -> None:
    class Fatal(BaseException):
        pass

    class Crasher(Session):
        def on_start(self) -> None:
            self.state = "armed"

        def on_event(self, event: SessionEvent) -> None:
            raise Fatal("the loop itself dies")

    d = Dispatcher()
    d.start()
    bystander = d.register(Forever("bystander"))
    d.register(Crasher("crasher"))
    d.post(SessionEvent("crasher", "boom"))
    with pytest.raises(DispatcherCrashedError) as caught:
        bystander.wait(5)
    assert isinstance(caught.value.__cause__, Fatal)
    with pytest.raises(DispatcherCrashedError):
        d.post(SessionEvent("bystander", "late"))
    assert d.statistics().state == "crashed"
    d.stop(timeout=1)


def test_stopping_twice_returns_the_first_status_and_restart_works() -> None:
    d = Dispatcher().start()
    d.register(Forever("f"))
    d.submit(lambda: None).wait(5)
    first = d.stop(timeout=1)
    assert d.stop(timeout=1) is first
    with pytest.raises(RuntimeClosedError):
        d.post(SessionEvent("f", "late"))
    d.start()
    assert d.register(Door("again")) is not None
    d.post(SessionEvent("again", "lock"))
    assert d.submit(lambda: "alive").wait(5) == "alive"
    d.stop(timeout=1)


def test_stop_from_the_dispatcher_thread_raises_deadlock_error(dispatcher: Dispatcher) -> None:
    with pytest.raises(DeadlockError, match="own thread"):
        dispatcher.submit(dispatcher.stop).wait(5)


def test_full_queue_with_raise_policy_raises_queue_full_error() -> None:
    d = Dispatcher(max_queue=3, on_full="raise").start()
    _, release = blocked(d)
    try:
        for i in range(3):
            d.post(SessionEvent("gate", "noop", i))
        with pytest.raises(QueueFullError, match="3 events waiting"):
            d.post(SessionEvent("gate", "noop"))
    finally:
        release.set()
        d.stop(timeout=2)


def test_full_queue_with_drop_policy_counts_what_it_drops() -> None:
    d = Dispatcher(max_queue=2, on_full="drop").start()
    _, release = blocked(d)
    accepted = [d.post(SessionEvent("gate", "noop", i)) for i in range(5)]
    release.set()
    assert accepted == [True, True, False, False, False]
    d.submit(lambda: None).wait(5)
    assert d.statistics().dropped_full == 3
    d.stop(timeout=2)


def test_full_queue_with_block_policy_waits_for_room() -> None:
    d = Dispatcher(max_queue=1, on_full="block", full_timeout=10).start()
    _, release = blocked(d)
    d.post(SessionEvent("gate", "noop"))
    posted = threading.Event()
    producer = threading.Thread(target=lambda: (d.post(SessionEvent("gate", "noop")), posted.set()))
    producer.start()
    assert not posted.wait(0.1), "the producer must block while the queue is full"
    release.set()
    assert posted.wait(5)
    producer.join()
    d.stop(timeout=2)


def test_full_queue_with_block_policy_gives_up_after_its_timeout() -> None:
    d = Dispatcher(max_queue=1, on_full="block", full_timeout=0.05).start()
    _, release = blocked(d)
    try:
        d.post(SessionEvent("gate", "noop"))
        with pytest.raises(QueueFullError, match="stayed full"):
            d.post(SessionEvent("gate", "noop"))
    finally:
        release.set()
        d.stop(timeout=2)


def test_lag_is_dequeue_time_minus_post_time_with_an_injected_clock() -> None:
    now = [1_000_000]
    d = Dispatcher(clock=lambda: now[0]).start()
    _, release = blocked(d)
    d.register(Forever("f"))
    now[0] = 2_000_000
    d.post(SessionEvent("f", "tick"))  # posted at 2 ms
    now[0] = 7_000_000  # dequeued at 7 ms
    release.set()
    d.submit(lambda: None).wait(5)
    stats = d.statistics()
    d.stop(timeout=2)
    assert stats.lag.max == pytest.approx(0.006)  # the start queued at 1 ms waited 6 ms
    assert stats.lag.last == 0.0  # the submit marker: posted and dequeued at 7 ms
    assert 0.005 in {round(x, 6) for x in (stats.lag.p99, stats.lag.max - 0.001)}


def test_statistics_track_queue_depth_and_dispatch_counts() -> None:
    d = Dispatcher().start()
    _, release = blocked(d)
    d.register(Forever("f"))
    for _ in range(50):
        d.post(SessionEvent("f", "tick"))
    assert d.statistics().queue_depth == 51
    release.set()
    d.submit(lambda: None).wait(5)
    stats = d.statistics()
    d.stop(timeout=2)
    assert stats.max_queue_depth >= 51
    assert stats.queue_depth == 0
    assert stats.dispatched >= 53
    assert stats.active_sessions == 2


def test_batch_listeners_run_after_each_batch_and_their_failures_are_contained(
    dispatcher: Dispatcher, caplog: pytest.LogCaptureFixture
) -> None:
    batches: list[int] = []
    dispatcher.add_batch_listener(lambda: batches.append(threading.get_ident()))

    def broken() -> None:
        raise RuntimeError("listener broke")

    dispatcher.add_batch_listener(broken)
    with caplog.at_level(logging.ERROR):
        dispatcher.submit(lambda: None).wait(5)
        dispatcher.submit(lambda: None).wait(5)
    assert batches
    assert all(t != threading.get_ident() for t in batches)
    assert dispatcher.statistics().listener_failures >= 1
    assert "listener broke" in caplog.text


def test_eight_threads_posting_100k_events_lose_none_and_keep_per_session_order() -> None:
    producers, total, keys = 8, 100_000, 64
    per_producer = total // producers
    received: dict[int, list[tuple[int, int]]] = {k: [] for k in range(keys)}

    class Recorder(Session):
        def on_start(self) -> None:
            self.state = "recording"

        def on_event(self, event: SessionEvent) -> None:
            received[self.id].append(event.payload)  # type: ignore[index]

    d = Dispatcher(max_queue=10_000, on_full="block", full_timeout=30).start()
    for k in range(keys):
        d.register(Recorder(k))
    start = threading.Barrier(producers)

    def produce(p: int) -> None:
        start.wait()
        for seq in range(per_producer):
            d.post(SessionEvent((p * 7 + seq) % keys, "item", (p, seq)))

    threads = [threading.Thread(target=produce, args=(p,)) for p in range(producers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    d.submit(lambda: None).wait(30)
    d.stop(timeout=5)

    assert sum(len(items) for items in received.values()) == total
    for items in received.values():
        last_seen: dict[int, int] = {}
        for producer, seq in items:
            assert seq > last_seen.get(producer, -1), "per-producer order broken in a session"
            last_seen[producer] = seq
