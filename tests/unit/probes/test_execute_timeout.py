"""``ProbeExecutor.execute``'s timeout: a stuck probe ends as a timeout and leaves its task
uncancelled, a cancellation from outside still reaches the caller, and finished runs leave no
alarm behind."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any, ClassVar, TypeVar

import pytest
import uvloop
from pydantic import BaseModel

from nyxmon.domain.model import Outcome, Result
from nyxmon.probes.base import PreparedCheck, ProbeExecutor, ProbeRun
from tests.servers.checks import make_check

T = TypeVar("T")
NewLoop = Callable[[], asyncio.AbstractEventLoop]


class _Spec(BaseModel):
    wait: float = 0.0


class _Sleeper(ProbeExecutor[_Spec]):
    type_name: ClassVar[str] = "sleeper"
    spec_model = _Spec

    async def probe(self, run: ProbeRun, prepared: PreparedCheck[_Spec]) -> Result:
        await asyncio.sleep(prepared.spec.wait)
        return run.finish(Outcome.OK, "slept")


LOOPS = [
    pytest.param(asyncio.new_event_loop, id="asyncio"),
    pytest.param(uvloop.new_event_loop, id="uvloop"),
]


def _run(new_loop: NewLoop, main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    loop = new_loop()
    try:
        return loop.run_until_complete(main())
    finally:
        loop.close()


@pytest.mark.parametrize("new_loop", LOOPS)
def test_a_stuck_probe_ends_as_a_timeout_and_its_task_goes_on(
    new_loop: Callable[[], asyncio.AbstractEventLoop],
) -> None:
    async def main() -> tuple[Result, int, float]:
        check = make_check("sleeper", {"wait": 30}, timeout=0.05)
        started = time.perf_counter()
        result = await _Sleeper().execute(check, time.time())
        took = time.perf_counter() - started
        await asyncio.sleep(0)  # a cancellation left pending would land here
        task = asyncio.current_task()
        assert task is not None
        return result, task.cancelling(), took

    result, cancelling, took = _run(new_loop, main)
    assert result.outcome is Outcome.TIMEOUT
    assert result.message == "no answer within 0.05 s"
    assert cancelling == 0
    assert 0.04 <= took < 1.0


@pytest.mark.parametrize("new_loop", LOOPS)
def test_a_cancellation_from_outside_is_not_taken_for_the_timeout(
    new_loop: Callable[[], asyncio.AbstractEventLoop],
) -> None:
    async def main() -> bool:
        check = make_check("sleeper", {"wait": 30}, timeout=10)
        run = asyncio.ensure_future(_Sleeper().execute(check, time.time()))
        await asyncio.sleep(0.01)
        run.cancel()
        try:
            await run
        except asyncio.CancelledError:
            return True
        return False

    assert _run(new_loop, main) is True


@pytest.mark.parametrize("new_loop", LOOPS)
def test_finished_runs_leave_no_alarm(new_loop: NewLoop) -> None:
    async def main() -> tuple[list[Outcome], int]:
        executor = _Sleeper()
        checks = [make_check("sleeper", {}, check_id=f"s.c{i}", timeout=30) for i in range(3000)]
        results = await asyncio.gather(*(executor.execute(c, time.time()) for c in checks))
        deadlines = executor.deadlines(asyncio.get_running_loop())
        return sorted({r.outcome for r in results}), len(deadlines)

    outcomes, live = _run(new_loop, main)
    assert outcomes == [Outcome.OK]
    assert live == 0
