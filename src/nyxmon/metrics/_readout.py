"""Readout: a recorder's snapshots and its stop, answered by its owning loop to any thread.

Metrics are touched only on the owning loop (or, once stopped, under the recorder's lock), so a
reader elsewhere asks that loop and waits, always with a timeout: a busy or blocked loop yields
the last published snapshot marked ``stale``, a closed one the final state, never a hang.

The split with :mod:`.recorder` is by who writes what: the recorder alone writes its queue, its
wake-up flag and its state (the stop transitions included); these functions read that state,
publish snapshots, and decide where a transition runs and how long the caller waits for it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

import anyio

from nyxmon.runtime import OneShot

from .policies import RecorderState, check_timeout
from .snapshots import MetricSnapshot, RecorderSnapshot

if TYPE_CHECKING:
    from .recorder import Recorder

__all__ = ["publish", "snapshot", "snapshot_async", "stale", "stop", "stop_async"]

T = TypeVar("T")

_STOP_GRACE = 0.25  # seconds a stopping caller waits past ``timeout`` for the loop's last batch


# -- stopping ------------------------------------------------------------------------------------
def stop(recorder: Recorder, timeout: float) -> RecorderSnapshot:
    deadline = time.monotonic() + check_timeout(timeout)
    if not recorder._begin_stop():
        return _final(recorder)
    if _on_owner_loop(recorder):
        recorder._finish_stop(deadline)
        return _final(recorder)
    cell = _ask_loop(recorder, recorder._finish_stop, deadline)
    if cell is None:
        recorder._abandon()
    elif not cell.wait_done(timeout + _STOP_GRACE):
        raise TimeoutError(_stop_unanswered(recorder, timeout))
    return _final(recorder)


async def stop_async(recorder: Recorder, timeout: float) -> RecorderSnapshot:  # noqa: ASYNC109
    deadline = time.monotonic() + check_timeout(timeout)
    if not recorder._begin_stop():
        return _final(recorder)
    if _on_owner_loop(recorder):
        recorder._finish_stop(deadline)
        return _final(recorder)
    cell = _ask_loop(recorder, recorder._finish_stop, deadline)
    if cell is None:
        recorder._abandon()
        return _final(recorder)
    with anyio.move_on_after(timeout + _STOP_GRACE):
        await cell.wait_async()
        return _final(recorder)
    raise TimeoutError(_stop_unanswered(recorder, timeout))


def _stop_unanswered(recorder: Recorder, timeout: float) -> str:
    return (
        f"recorder {recorder.recorder_id!r}: its event loop did not process the stop "
        f"within {timeout} s (it is busy or blocked)"
    )


# -- snapshots -----------------------------------------------------------------------------------
def snapshot(recorder: Recorder, timeout: float) -> RecorderSnapshot:
    check_timeout(timeout)
    if recorder._state is RecorderState.STOPPED:
        return _final(recorder)
    if _on_owner_loop(recorder):
        return _current(recorder)
    cell = _ask_loop(recorder, _current, recorder)
    if cell is None:
        recorder._abandon()
        return _final(recorder)
    if not cell.wait_done(timeout):
        return stale(recorder, f"its event loop did not answer within {timeout} s")
    return cell.outcome()


async def snapshot_async(recorder: Recorder, timeout: float) -> RecorderSnapshot:  # noqa: ASYNC109
    check_timeout(timeout)
    if recorder._state is RecorderState.STOPPED:
        return _final(recorder)
    if _on_owner_loop(recorder):
        return _current(recorder)
    cell = _ask_loop(recorder, _current, recorder)
    if cell is None:
        recorder._abandon()
        return _final(recorder)
    with anyio.move_on_after(timeout):
        return await cell.wait_async()
    return stale(recorder, f"its event loop did not answer within {timeout} s")


def publish(recorder: Recorder) -> RecorderSnapshot:
    """Snapshot every metric and keep the result: it is what a stale answer falls back on.

    Owning loop only, or under the lock once stopped. A metric whose snapshot fails is left
    out and counted against that metric, so one broken metric cannot hide the others.
    """
    now = recorder._clock()
    metrics: dict[str, MetricSnapshot] = {}
    for name, metric in recorder._metrics.items():
        try:
            metrics[name] = metric.snapshot(now)
        except Exception as exc:
            recorder._failed(metric, exc)
    published = _record(recorder, MappingProxyType(metrics))
    recorder._last = published
    return published


def stale(recorder: Recorder, why: str) -> RecorderSnapshot:
    """For when the loop cannot answer: counters are plain attributes any thread may read, so
    they are current; metrics are the loop's alone to read, so they are the last published."""
    last = recorder._last
    fresh = _record(recorder, last.metrics if last else MappingProxyType({}))
    taken = f"; metrics as of {last.taken_at:.3f}" if last else "; none yet"
    return dataclasses.replace(
        fresh,
        taken_at=last.taken_at if last else fresh.taken_at,
        stale=True,
        stale_reason=f"recorder {recorder.recorder_id!r}: {why}{taken}",
    )


def _current(recorder: Recorder) -> RecorderSnapshot:
    if recorder._state is not RecorderState.NEW:
        # So the snapshot covers every event registered before the caller asked.
        recorder._process(len(recorder._queue))
    return publish(recorder)


def _final(recorder: Recorder) -> RecorderSnapshot:
    # Stopped: no drain touches the metrics any more, so any thread may read them.
    with recorder._lock:
        return publish(recorder)


def _record(recorder: Recorder, metrics: Mapping[str, MetricSnapshot]) -> RecorderSnapshot:
    return RecorderSnapshot(
        recorder_id=recorder.recorder_id,
        entity_id=recorder.entity_id,
        namespace=recorder.namespace,
        state=str(recorder._state),
        taken_at=time.time(),
        processed=recorder._processed,
        pending=len(recorder._queue),
        unrouted=recorder._unrouted,
        dropped=MappingProxyType(dict(recorder._drops)),
        metrics=metrics,
    )


# -- the owning loop -----------------------------------------------------------------------------
def _on_owner_loop(recorder: Recorder) -> bool:
    """Already there: waiting for the loop from its own thread would wait forever."""
    try:
        return asyncio.get_running_loop() is recorder._loop
    except RuntimeError:
        return False


def _ask_loop(recorder: Recorder, fn: Callable[..., T], *args: Any) -> OneShot[T] | None:
    """Run ``fn(*args)`` on the owning loop; ``None`` if that loop is closed."""
    cell: OneShot[T] = OneShot()

    def run() -> None:
        try:
            cell.set_result(fn(*args))
        except BaseException as exc:
            cell.set_exception(exc)
            if not isinstance(exc, Exception):
                raise

    try:
        recorder._loop.call_soon_threadsafe(run, context=recorder._ctx)
    except RuntimeError:
        return None
    return cell
