"""The Runtime contract; every test runs on asyncio, uvloop and trio (seed 004's ASYNC-04)."""

from __future__ import annotations

import importlib.util
import logging
import subprocess
import sys
import threading
import time
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from nyxmon.runtime import (
    DeadlockError,
    DiscardedError,
    Runtime,
    RuntimeClosedError,
    ShutdownStatus,
)


async def add(a: int, b: int) -> int:
    await anyio.lowlevel.checkpoint()
    return a + b


class Boom(Exception):
    pass


def test_call_returns_the_coroutine_result(runtime: Runtime) -> None:
    assert runtime.call(add, 2, 3) == 5


def test_call_runs_a_plain_function_on_the_loop_thread(runtime: Runtime) -> None:
    def where() -> int:
        return threading.get_ident()

    assert runtime.call(where) != threading.get_ident()
    assert runtime.call(where) == runtime.call(where)


def test_call_reraises_the_coroutines_exception(runtime: Runtime) -> None:
    async def fail() -> None:
        raise Boom("from the loop")

    with pytest.raises(Boom, match="from the loop"):
        runtime.call(fail)


def test_call_from_the_loop_thread_raises_deadlock_error(runtime: Runtime) -> None:
    async def nested() -> str:
        try:
            runtime.call(add, 1, 1)
        except DeadlockError as exc:
            return str(exc)
        return "no error"

    message = runtime.call(nested)
    assert "Runtime.call()" in message
    assert "own loop thread" in message


def test_call_timeout_cancels_the_task_before_raising(runtime: Runtime) -> None:
    cleaned_up = threading.Event()

    async def forever() -> None:
        try:
            await anyio.sleep(60)
        finally:
            cleaned_up.set()

    with pytest.raises(TimeoutError, match="forever"):
        runtime.call(forever, timeout=0.05)
    assert cleaned_up.is_set(), "the task's cleanup must have run when call() raises"
    assert runtime.statistics().tasks_in_flight == 0


def test_call_that_raises_timeout_error_itself_is_not_mistaken_for_a_call_timeout(
    runtime: Runtime,
) -> None:
    async def inner_timeout() -> None:
        raise TimeoutError("inner")

    with pytest.raises(TimeoutError, match="inner"):
        runtime.call(inner_timeout, timeout=5)


def test_submit_returns_a_future_with_the_result(runtime: Runtime) -> None:
    future = runtime.submit(add, 20, 22)
    assert future.result(timeout=5) == 42
    assert future.done()
    assert not future.cancelled()


def test_cancelling_a_submitted_future_cancels_the_task(runtime: Runtime) -> None:
    started, cleaned_up = threading.Event(), threading.Event()

    async def forever() -> None:
        started.set()
        try:
            await anyio.sleep(60)
        finally:
            cleaned_up.set()

    future = runtime.submit(forever)
    assert started.wait(5)
    assert future.cancel()
    assert future.cancelled()
    assert cleaned_up.wait(5)
    assert not future.cancel() or future.cancelled()


def test_waiting_on_a_future_from_the_loop_thread_raises_deadlock_error(
    runtime: Runtime,
) -> None:
    async def wait_inside() -> str:
        future = runtime.submit(anyio.sleep, 0.5)
        try:
            future.result()
        except DeadlockError as exc:
            future.cancel()
            return str(exc)
        return "no error"

    assert "own loop thread" in runtime.call(wait_inside)


def test_spawned_task_failure_is_logged_and_counted(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    async def fail() -> None:
        raise Boom("background")

    with caplog.at_level(logging.ERROR, logger="nyxmon.runtime.loop_thread"):
        handle = runtime.spawn(fail, name="doomed")
        with pytest.raises(Boom):
            handle.wait(5)
    assert runtime.statistics().task_failures == 1
    assert "doomed" in caplog.text
    assert "background" in caplog.text


def test_spawned_task_can_be_cancelled(runtime: Runtime) -> None:
    cleaned_up = threading.Event()

    async def forever() -> None:
        try:
            await anyio.sleep(60)
        finally:
            cleaned_up.set()

    handle = runtime.spawn(forever, name="sleeper")
    time.sleep(0.05)
    handle.cancel()
    assert cleaned_up.wait(5)
    with pytest.raises(DiscardedError):
        handle.wait(5)
    assert runtime.statistics().task_failures == 0


def test_run_sync_soon_runs_on_the_loop_and_counts_failures(runtime: Runtime) -> None:
    seen: list[int] = []
    done = threading.Event()

    def fail() -> None:
        raise Boom("callback")

    runtime.run_sync_soon(fail)
    runtime.run_sync_soon(lambda: seen.append(threading.get_ident()))
    runtime.run_sync_soon(done.set)
    assert done.wait(5)
    assert seen
    assert seen[0] != threading.get_ident()
    assert runtime.statistics().callback_failures == 1


def test_every_method_raises_runtime_closed_error_after_shutdown(runtime: Runtime) -> None:
    assert runtime.shutdown(timeout=2) is ShutdownStatus.CLEAN
    for attempt in (
        lambda: runtime.call(add, 1, 2),
        lambda: runtime.submit(add, 1, 2),
        lambda: runtime.spawn(add, 1, 2),
        lambda: runtime.run_sync_soon(print),
    ):
        with pytest.raises(RuntimeClosedError, match="closed"):
            attempt()


def test_draining_shutdown_lets_in_flight_work_finish(runtime: Runtime) -> None:
    async def short() -> str:
        await anyio.sleep(0.05)
        return "finished"

    future = runtime.submit(short)
    assert runtime.shutdown(timeout=5, drain=True) is ShutdownStatus.CLEAN
    assert future.result(0) == "finished"


def test_draining_shutdown_discards_what_outlives_the_timeout(runtime: Runtime) -> None:
    cleaned_up = threading.Event()

    async def forever() -> None:
        try:
            await anyio.sleep(60)
        finally:
            cleaned_up.set()

    future = runtime.submit(forever)
    status = runtime.shutdown(timeout=0.1, drain=True)
    assert status is ShutdownStatus.DRAINED_WITH_DISCARDS
    assert cleaned_up.is_set()
    assert future.done()


def test_non_draining_shutdown_cancels_in_flight_work(runtime: Runtime) -> None:
    handle = runtime.spawn(anyio.sleep, 60, name="sleeper")
    time.sleep(0.05)
    assert runtime.shutdown(timeout=2, drain=False) is ShutdownStatus.CANCELLED
    with pytest.raises(DiscardedError):
        handle.wait(1)


def test_shutdown_reports_timeout_when_sync_code_blocks_the_loop(runtime: Runtime) -> None:
    release = threading.Event()

    async def hog() -> None:
        release.wait(10)  # blocks the loop thread on purpose

    waiter = runtime.submit(hog)
    time.sleep(0.05)
    try:
        assert runtime.shutdown(timeout=0.2, drain=False) is ShutdownStatus.TIMEOUT
        with pytest.raises(DiscardedError):
            waiter.result(1)
    finally:
        release.set()


def test_shutdown_twice_returns_the_first_status(runtime: Runtime) -> None:
    runtime.spawn(anyio.sleep, 60)
    time.sleep(0.05)
    first = runtime.shutdown(timeout=1, drain=False)
    assert first is ShutdownStatus.CANCELLED
    assert runtime.shutdown() is first


def test_a_stopped_runtime_can_be_started_again(runtime: Runtime) -> None:
    runtime.shutdown(timeout=2)
    runtime.start()
    assert runtime.call(add, 1, 1) == 2


def test_shutdown_from_the_loop_thread_raises_deadlock_error(runtime: Runtime) -> None:
    async def stop_inside() -> str:
        try:
            runtime.shutdown()
        except DeadlockError as exc:
            return str(exc)
        return "no error"

    assert "Runtime.shutdown()" in runtime.call(stop_inside)


def test_portal_uses_the_one_long_lived_loop_thread(runtime: Runtime) -> None:
    def where() -> int:
        return threading.get_ident()

    with runtime.portal() as first:
        thread_a = first.call(where)
        assert first.start_task_soon(add, 1, 2).result(5) == 3
    with runtime.portal() as second:
        assert second.call(where) == thread_a


def test_lag_probe_sees_a_loop_blocked_by_sync_code(backend: str) -> None:
    with Runtime(backend, lag_interval=0.01) as rt:  # type: ignore[arg-type]

        async def hog() -> None:
            time.sleep(0.3)  # noqa: ASYNC251 - blocking the loop is the point

        rt.call(hog)
        deadline = time.monotonic() + 5
        while rt.statistics().loop_lag.max < 0.2 and time.monotonic() < deadline:
            time.sleep(0.02)
        stats = rt.statistics().loop_lag
    # The probe's timer was due 10 ms in and fired only after the 300 ms block.
    assert stats.max >= 0.2
    assert stats.count > 0
    assert stats.p50 <= stats.p99 <= stats.max


def test_statistics_count_started_tasks(runtime: Runtime) -> None:
    before = runtime.statistics().tasks_started
    for _ in range(10):
        runtime.call(add, 1, 1)
    stats = runtime.statistics()
    assert stats.tasks_started - before == 10
    assert stats.state == "running"
    assert stats.backend == runtime.backend


def test_the_loop_thread_is_a_daemon(runtime: Runtime) -> None:
    threads = [t for t in threading.enumerate() if t.name == runtime.name]
    assert len(threads) == 1
    assert threads[0].daemon


def test_uvloop_is_the_default_backend_where_installed() -> None:
    expected = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    assert Runtime().backend == expected


@pytest.mark.parametrize("bad", ["curio", "", "UVLOOP"])
def test_unknown_backend_is_refused_with_its_name(bad: Any) -> None:
    with pytest.raises(ValueError, match="backend must be"):
        Runtime(bad)


def test_a_forgotten_runtime_does_not_hang_interpreter_exit() -> None:
    script = (
        "import anyio\n"
        "from nyxmon.runtime import Runtime\n"
        "rt = Runtime().start()\n"
        "rt.spawn(anyio.sleep, 3600)\n"
        "print(rt.call(anyio.sleep, 0) is None)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"


@pytest.mark.anyio
async def test_a_runtime_future_can_be_awaited_from_another_event_loop() -> None:
    with Runtime("asyncio") as rt:
        assert await rt.submit(add, 4, 5) == 9
        handle = rt.spawn(add, 1, 1)
        assert await handle == 2


def test_a_future_cancelled_before_its_task_starts_leaves_nothing_in_flight(
    runtime: Runtime,
) -> None:
    release = threading.Event()
    runtime.run_sync_soon(release.wait, 10)  # the loop is busy: the task cannot take a step
    future = runtime.submit(anyio.sleep, 0)
    time.sleep(0.05)
    assert future.cancel()
    release.set()
    deadline = time.monotonic() + 5
    while runtime.statistics().tasks_in_flight and time.monotonic() < deadline:
        time.sleep(0.01)
    assert runtime.statistics().tasks_in_flight == 0
    assert runtime.shutdown(timeout=2) is ShutdownStatus.CLEAN
