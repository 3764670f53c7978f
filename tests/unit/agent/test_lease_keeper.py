"""The lease keeper on a real runtime loop, with an in-memory lease table and an injected
clock: a lease another agent took stops here at once, renewals failing past the lease's end
drop every check, and an agent over its fair share saves what it gives up before freeing it.
(The SQL side runs against PostgreSQL in tests/integration/store/test_postgres_agents.py.)"""

from __future__ import annotations

import queue
import time
from collections.abc import Iterable, Iterator
from typing import Any

import pytest

from nyxmon.agent.leases import LeaseKeeper
from nyxmon.errors import StoreError
from nyxmon.runtime import Runtime
from nyxmon.service_layer.messages import SetLeases
from nyxmon.service_layer.storage import Census, Claimed, lease_row_seconds

ME, OTHER = 1, 2


class Table:
    """check_leases for one location: check id -> owner (None: free)."""

    def __init__(self, checks: int) -> None:
        self.owner: dict[str, int | None] = {f"c{n:02d}": None for n in range(checks)}
        self.failing = False
        self.released: list[frozenset[str]] = []

    def sync(self) -> Census:
        self._check()
        return Census(0, len(self.owner))  # state leases only (no check names a location)

    def renew(self) -> frozenset[str]:
        self._check()
        return frozenset(c for c, o in self.owner.items() if o == ME)

    def claim(self, limit: int) -> Claimed:
        self._check()
        free = [c for c, o in sorted(self.owner.items()) if o is None][:limit]
        for c in free:
            self.owner[c] = ME
        return Claimed(frozenset(free))

    def release(self, check_ids: Iterable[str]) -> None:
        ids = frozenset(check_ids)
        self.released.append(ids)
        for c in ids:
            self.owner[c] = None

    def held_views(self) -> dict[str, Any]:
        return {}

    def _check(self) -> None:
        if self.failing:
            raise StoreError("the database is away")


class Notices:
    def claimable(self, now: float, limit: int = 1000) -> tuple[int, ...]:
        return ()

    def claim(self, outbox_id: int) -> bool:
        return True

    def delivered(self, outbox_id: int, attempts: int, at: float) -> None:
        pass


class Member:
    agent_id = ME
    location = "default"
    lease_seconds = 0.3  # a round every 0.1 s

    def __init__(self, table: Table) -> None:
        self.leases = table
        self.notices = Notices()
        self.live = 1

    def heartbeat(self) -> Census:
        return Census(self.live, self.live)


class Reader:
    def load_states(self) -> dict[str, Any]:
        return {}

    def outbox(self, **_: Any) -> tuple[Any, ...]:
        return ()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


Parts = tuple[Table, Member, Clock, "queue.Queue[SetLeases]"]


@pytest.fixture
def parts() -> Iterator[Parts]:
    table = Table(10)
    member = Member(table)
    clock = Clock()
    applied: queue.Queue[SetLeases] = queue.Queue()

    async def apply(command: SetLeases) -> None:
        applied.put(command)

    keeper = LeaseKeeper(
        member,  # type: ignore[arg-type]
        Reader(),  # type: ignore[arg-type]
        apply,
        lambda entries: None,
        claim_every=0.02,
        clock=clock,
    )
    with Runtime(name="test-leases") as runtime:
        task = runtime.spawn(keeper.run)
        yield table, member, clock, applied
        task.cancel()


def next_owned(applied: queue.Queue[SetLeases]) -> SetLeases:
    return applied.get(timeout=5)


def tick(clock: Clock, seconds: float) -> None:
    """Let the keeper's rounds come (its clock moves, and the loop gets real time to run)."""
    clock.now += seconds
    time.sleep(0.05)


def test_an_agent_alone_takes_every_check(parts: Parts) -> None:
    table, _member, _clock, applied = parts
    assert next_owned(applied).owned == frozenset(table.owner)


def test_a_lease_another_agent_took_stops_here_at_once_unsaved(parts: Parts) -> None:
    table, _member, clock, applied = parts
    next_owned(applied)
    table.owner["c03"] = OTHER  # its lease ran out here and another agent took it
    tick(clock, 0.2)
    lost = next_owned(applied)
    assert "c03" not in lost.owned
    assert len(lost.owned) == 9
    assert not lost.save_released


def test_failing_renewals_drop_every_check_once_the_lease_ran_out(parts: Parts) -> None:
    table, _member, clock, applied = parts
    next_owned(applied)
    table.failing = True
    # A round fails; its rows still hold (they last lease_row_seconds(0.3) = 0.2 s).
    tick(clock, 0.1)
    assert applied.empty()
    tick(clock, 0.3)
    dropped = next_owned(applied)
    assert dropped.owned == frozenset()


def test_an_agent_over_its_share_saves_what_it_gives_up_before_freeing_it(parts: Parts) -> None:
    table, member, clock, applied = parts
    next_owned(applied)
    member.live = 2  # another agent joined: the share is 5
    tick(clock, 0.2)
    given_up = next_owned(applied)
    assert len(given_up.owned) == 5
    assert given_up.save_released
    assert given_up.on_saved is not None
    time.sleep(0.2)
    assert table.released == []  # not before the states are committed
    gone = frozenset(table.owner) - given_up.owned
    assert all(table.owner[c] == ME for c in gone)
    given_up.on_saved()
    deadline = time.monotonic() + 5
    while not table.released and time.monotonic() < deadline:
        time.sleep(0.02)
    assert table.released == [gone]
    assert all(table.owner[c] is None for c in gone)


def test_lease_rows_run_out_early_enough_for_a_takeover_inside_the_period() -> None:
    # The others claim every second and then probe all they took: a dead agent's rows must
    # run out that much before the period the user configured, and still outlast a late
    # renewal (renewals come every third of it).
    assert lease_row_seconds(15.0) == 11.0
    assert lease_row_seconds(60.0) == 56.0
    assert lease_row_seconds(6.0) == 4.0
    assert lease_row_seconds(3.0) == 2.0 > 3.0 / 3
