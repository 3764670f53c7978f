"""``FreshRead``: concurrent callers share reads, yet none is served by a read that began
before it asked (a token revoked just before a request must be refused by that request)."""

from __future__ import annotations

import anyio
import pytest

from nyxmon.web.fresh_read import FreshRead

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Counter:
    """A value that changes while reads are under way; each read takes a step to finish."""

    def __init__(self) -> None:
        self.value = 0
        self.started = 0
        self.gate = anyio.Event()

    async def read(self) -> int:
        self.started += 1
        seen = self.value
        await self.gate.wait()
        return seen


async def test_many_concurrent_callers_cost_two_reads() -> None:
    shared: FreshRead[int] = FreshRead()
    counter = Counter()
    got: list[int] = []

    async def ask() -> None:
        got.append(await shared.get(counter.read))

    async with anyio.create_task_group() as tg:
        for _ in range(50):
            tg.start_soon(ask)
        await anyio.wait_all_tasks_blocked()
        counter.gate.set()
    assert got == [0] * 50
    assert shared.reads == 2, "the first caller's read, and one for the 49 who came during it"


async def test_a_caller_arriving_during_a_read_gets_the_next_one() -> None:
    shared: FreshRead[int] = FreshRead()
    counter = Counter()
    early: list[int] = []
    late: list[int] = []

    async def ask(into: list[int]) -> None:
        into.append(await shared.get(counter.read))

    async with anyio.create_task_group() as tg:
        tg.start_soon(ask, early)
        await anyio.wait_all_tasks_blocked()  # the first read is under way, having seen 0
        counter.value = 1  # e.g. a revocation commits now
        for _ in range(20):
            tg.start_soon(ask, late)
        await anyio.wait_all_tasks_blocked()
        assert counter.started == 1, "the late callers wait for the read under way to end"
        counter.gate.set()
    assert early == [0]
    assert late == [1] * 20, "every late caller saw the change"
    assert shared.reads == 2


async def test_a_failed_read_fails_its_callers_and_the_next_read_is_fresh() -> None:
    shared: FreshRead[int] = FreshRead()

    async def broken() -> int:
        raise OSError("disk I/O error")

    async def fine() -> int:
        return 7

    with pytest.raises(OSError, match="disk I/O error"):
        await shared.get(broken)
    assert await shared.get(fine) == 7


async def test_callers_joined_to_a_cancelled_callers_read_still_get_it() -> None:
    shared: FreshRead[int] = FreshRead()
    counter = Counter()
    got: list[int] = []
    leader_scope = anyio.CancelScope()

    async def ask() -> None:
        got.append(await shared.get(counter.read))

    async def leader() -> None:
        with leader_scope:
            await shared.get(counter.read)

    async with anyio.create_task_group() as tg:
        tg.start_soon(ask)  # reads first
        await anyio.wait_all_tasks_blocked()
        tg.start_soon(leader)  # queues the next read and will run it
        await anyio.wait_all_tasks_blocked()
        tg.start_soon(ask)  # joins that queued read
        await anyio.wait_all_tasks_blocked()
        leader_scope.cancel()  # the leader's client goes away
        counter.gate.set()
    assert got == [0, 0]
    assert shared.reads == 2
