"""OffloadPool: bounded workers, back-pressure, abandonment, cancellation, shutdown."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import anyio
import pytest

from nyxmon.runtime import (
    DiscardedError,
    OffloadPool,
    OffloadTimeoutError,
    QueueFullError,
    RuntimeClosedError,
    ShutdownStatus,
)


@pytest.fixture
def pool() -> Iterator[OffloadPool]:
    p = OffloadPool("test-pool", workers=1, queue_size=2)
    yield p
    p.shutdown(timeout=2, drain=False)


def occupy(pool: OffloadPool) -> threading.Event:
    """Keep the single worker busy until the returned event is set."""
    entered, release = threading.Event(), threading.Event()

    def hold() -> None:
        entered.set()
        release.wait(10)

    pool.submit(hold)
    assert entered.wait(5)
    return release


def test_submit_runs_the_function_in_a_worker_thread(pool: OffloadPool) -> None:
    handle = pool.submit(threading.get_ident)
    assert handle.wait(5) != threading.get_ident()
    assert handle.done()


def test_errors_propagate_to_the_waiter_and_are_counted(pool: OffloadPool) -> None:
    def fail() -> None:
        raise KeyError("missing")

    with pytest.raises(KeyError, match="missing"):
        pool.submit(fail).wait(5)
    stats = pool.statistics()
    assert stats.failed == 1
    assert stats.completed == 1


@pytest.mark.anyio
async def test_a_handle_can_be_awaited_without_blocking_the_loop(pool: OffloadPool) -> None:
    assert await pool.submit(sum, [1, 2, 3]) == 6
    assert await pool.run(max, 4, 9) == 9


def test_a_timeout_abandons_the_operation_and_counts_it_once(pool: OffloadPool) -> None:
    release = threading.Event()
    finished = threading.Event()

    def slow() -> str:
        release.wait(10)
        finished.set()
        return "too late"

    handle = pool.submit(slow, timeout=0.05)
    with pytest.raises(OffloadTimeoutError, match="abandoned"):
        handle.wait()
    with pytest.raises(OffloadTimeoutError):
        handle.wait()
    release.set()
    assert finished.wait(5)
    pool.submit(lambda: None).wait(5)  # the worker is free again
    assert pool.statistics().abandoned == 1


def test_an_operation_whose_deadline_passes_in_the_queue_never_runs(pool: OffloadPool) -> None:
    release = occupy(pool)
    ran = threading.Event()
    handle = pool.submit(ran.set, timeout=0.05)
    with pytest.raises(OffloadTimeoutError):
        handle.wait()
    release.set()
    pool.submit(lambda: None).wait(5)
    assert not ran.is_set()
    assert pool.statistics().abandoned == 1


def test_a_wait_timeout_does_not_abandon_the_operation(pool: OffloadPool) -> None:
    release = occupy(pool)
    handle = pool.submit(lambda: "result")
    with pytest.raises(TimeoutError, match="still running"):
        handle.wait(0.05)
    release.set()
    assert handle.wait(5) == "result"


def test_cancel_before_start_means_it_never_runs(pool: OffloadPool) -> None:
    release = occupy(pool)
    ran = threading.Event()
    handle = pool.submit(ran.set)
    assert handle.cancel()
    release.set()
    pool.submit(lambda: None).wait(5)
    assert not ran.is_set()
    assert handle.cancelled()
    with pytest.raises(DiscardedError):
        handle.wait(1)


def test_cancel_after_start_returns_false(pool: OffloadPool) -> None:
    entered, release = threading.Event(), threading.Event()
    handle = pool.submit(lambda: (entered.set(), release.wait(10)))
    assert entered.wait(5)
    assert not handle.cancel()
    release.set()
    handle.wait(5)


def test_full_queue_with_raise_policy_rejects_at_once(pool: OffloadPool) -> None:
    release = occupy(pool)
    pool.submit(lambda: None)
    pool.submit(lambda: None)
    with pytest.raises(QueueFullError, match="full"):
        pool.submit(lambda: None, on_full="raise")
    assert pool.statistics().rejected == 1
    release.set()


def test_full_queue_with_wait_policy_blocks_until_there_is_room(pool: OffloadPool) -> None:
    release = occupy(pool)
    pool.submit(lambda: None)
    pool.submit(lambda: None)
    submitted = threading.Event()
    producer = threading.Thread(target=lambda: (pool.submit(lambda: None), submitted.set()))
    producer.start()
    assert not submitted.wait(0.1), "the producer must wait while the queue is full"
    release.set()
    assert submitted.wait(5)
    producer.join()


def test_full_queue_with_timeout_policy_gives_up(pool: OffloadPool) -> None:
    release = occupy(pool)
    pool.submit(lambda: None)
    pool.submit(lambda: None)
    try:
        with pytest.raises(QueueFullError, match=r"no room within 0\.05 s"):
            pool.submit(lambda: None, timeout=0.05, on_full="timeout")
    finally:
        release.set()


@pytest.mark.anyio
async def test_cancelling_an_awaiting_task_cancels_the_queued_operation(
    pool: OffloadPool,
) -> None:
    release = occupy(pool)
    ran = threading.Event()
    handle = pool.submit(ran.set)
    with anyio.move_on_after(0.05):
        await handle
    assert handle.cancelled()
    release.set()
    pool.submit(lambda: None).wait(5)
    assert not ran.is_set()


def test_statistics_report_active_and_queued(pool: OffloadPool) -> None:
    release = occupy(pool)
    pool.submit(lambda: None)
    stats = pool.statistics()
    assert (stats.active, stats.queued, stats.threads, stats.workers) == (1, 1, 1, 1)
    release.set()


def test_workers_start_on_demand_up_to_the_limit() -> None:
    pool = OffloadPool("lazy", workers=3, queue_size=10)
    assert pool.statistics().threads == 0
    gates = [threading.Event() for _ in range(5)]
    handles = [pool.submit(g.wait, 10) for g in gates]
    assert pool.statistics().threads == 3
    for g in gates:
        g.set()
    for h in handles:
        h.wait(5)
    assert pool.shutdown(timeout=2) is ShutdownStatus.CLEAN


def test_draining_shutdown_runs_queued_operations() -> None:
    pool = OffloadPool("drain", workers=1, queue_size=10)
    handles = [pool.submit(lambda i=i: i * 2) for i in range(5)]
    assert pool.shutdown(timeout=5, drain=True) is ShutdownStatus.CLEAN
    assert [h.wait(0) for h in handles] == [0, 2, 4, 6, 8]


def test_non_draining_shutdown_cancels_queued_operations() -> None:
    pool = OffloadPool("nodrain", workers=1, queue_size=10)
    release = occupy(pool)
    queued = pool.submit(lambda: "never")
    threading.Timer(0.05, release.set).start()
    assert pool.shutdown(timeout=5, drain=False) is ShutdownStatus.CANCELLED
    with pytest.raises(DiscardedError, match="shut down"):
        queued.wait(0)
    with pytest.raises(RuntimeClosedError):
        pool.submit(lambda: None)


def test_shutdown_reports_timeout_when_an_operation_keeps_its_worker() -> None:
    pool = OffloadPool("stuck", workers=1, queue_size=10)
    release = occupy(pool)
    try:
        assert pool.shutdown(timeout=0.1) is ShutdownStatus.TIMEOUT
        assert pool.shutdown() is ShutdownStatus.TIMEOUT
    finally:
        release.set()


@pytest.mark.parametrize(("workers", "queue_size"), [(0, 1), (1, 0), (-1, 5)])
def test_pool_sizes_must_be_positive(workers: int, queue_size: int) -> None:
    with pytest.raises(ValueError, match="must be >= 1"):
        OffloadPool("bad", workers=workers, queue_size=queue_size)
