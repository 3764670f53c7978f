"""kill -9 at random moments under load, again and again: nothing committed is lost.

A real agent probes 120 checks every second against a real HTTP target, half of them on a
page the test flips between 200 and 503 at random, so transitions and notices keep coming while
the agent is killed (SIGKILL) at a random moment, N times (``NYXMON_CRASH_LOOPS``, 3 by default;
20 for a long run). After each kill the file passes ``PRAGMA integrity_check`` and every result
seen committed before the kill is still there. In the end, with the page steady, one last run
delivers everything to a real webhook receiver: every outbox row delivered, none given up;
a notice seen twice only under its one idempotency key; each check's notices arriving in the
order of its transitions (DOWN and RECOVERED taking turns, as the state machine makes them).
"""

from __future__ import annotations

import os
import random
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from nyxmon.store.sqlite import SqliteStore
from tests.reliability.conftest import (
    Agent,
    RestartableReceiver,
    ResultKey,
    committed_results,
    config_text,
    integrity,
    outbox,
    wait_for,
)
from tests.servers.http_target import HttpTarget, ThreadedHttpTarget

LOOPS = int(os.environ.get("NYXMON_CRASH_LOOPS", "3"))
FLIPPING = 60
STEADY = 60


class Flipper(threading.Thread):
    """Flips the target's ``/switch`` between up and down at random moments until stopped,
    then leaves it up."""

    def __init__(self, target: HttpTarget, rng: random.Random) -> None:
        super().__init__(name="flipper", daemon=True)
        self._target = target
        self._rng = rng
        self._done = threading.Event()
        self.flips = 0

    def _set(self, to: str) -> None:
        request = urllib.request.Request(self._target.url(f"/switch/{to}"), method="POST")
        urllib.request.urlopen(request, timeout=5).read()

    def run(self) -> None:
        up = True
        while not self._done.wait(self._rng.uniform(0.6, 1.8)):
            up = not up
            self._set("up" if up else "down")
            self.flips += 1

    def stop(self) -> None:
        self._done.set()
        self.join(10)
        self._set("up")


@pytest.fixture
def target() -> Iterator[HttpTarget]:
    with ThreadedHttpTarget() as running:
        yield running


def _count(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with SqliteStore(db, readonly=True) as store:
            return store.count_results()
    except Exception:
        return 0  # the very first start, before the schema exists


@pytest.mark.timeout(90 + 25 * LOOPS)
def test_kill_9_at_random_moments_loses_nothing_committed_and_delivers_every_notice_in_order(
    tmp_path: Path,
    target: HttpTarget,
    receiver: RestartableReceiver,
    start_agent: Callable[..., Agent],
    web_port: int,
) -> None:
    seed = int(os.environ.get("NYXMON_CRASH_SEED", time.time_ns() % 1_000_000))
    rng = random.Random(seed)
    db = tmp_path / "nyxmon.db"
    checks = "".join(
        f"      - {{name: flip{i}, type: http, url: '{target.url('/switch')}'}}\n"
        for i in range(FLIPPING)
    ) + "".join(
        f"      - {{name: steady{i}, type: http, url: '{target.url('/')}'}}\n"
        for i in range(STEADY)
    )
    config = tmp_path / "nyxmon.yaml"
    config.write_text(
        config_text(
            db,
            web_port,
            f"  - name: web\n    checks:\n{checks}",
            hook=receiver.url(),
        )
    )
    flipper = Flipper(target, rng)
    flipper.start()
    seen: set[ResultKey] = set()
    try:
        for loop in range(LOOPS):
            before = _count(db)
            agent = start_agent(config, web_port)
            wait_for(
                lambda b=before, a=agent: _count(db) > b or not a.alive(),
                60,
                "new results committed",
            )
            assert agent.alive(), agent.output()[-3000:]
            time.sleep(rng.uniform(0.0, 2.5))
            snapshot = committed_results(db)
            agent.kill()
            assert integrity(db) == "ok", f"loop {loop} (seed {seed})"
            after = committed_results(db)
            seen |= snapshot
            lost = seen - after
            assert not lost, f"loop {loop} (seed {seed}): {len(lost)} committed results lost"
    finally:
        flipper.stop()

    final = start_agent(config, web_port)
    final.wait_ready()

    def settled() -> bool:
        rows = outbox(db)
        with SqliteStore(db, readonly=True) as store:
            states = store.load_states()
        all_up = len(states) == FLIPPING + STEADY and all(s.state == "up" for s in states.values())
        return all_up and all(row.status != "pending" for row in rows)

    wait_for(settled, 90, "every check up and every notification settled")
    final.stop()
    assert integrity(db) == "ok"
    assert not seen - committed_results(db), f"seed {seed}"

    rows = outbox(db)
    assert flipper.flips >= LOOPS, "the page flipped during the kills"
    assert rows, "and made notices"
    assert [r.id for r in rows if r.status != "delivered"] == [], "every notice delivered"
    accepted = receiver.accepted()
    by_key = {doc["key"]: doc for doc in accepted}
    assert len(by_key) == len(accepted)
    assert set(by_key) == {row.key for row in rows}, "receiver got exactly the outbox's notices"
    notices = [(d["check"]["id"], d["kind"], d["at"]) for d in accepted]
    assert len(set(notices)) == len(notices), "no notice twice under different keys"
    assert set(receiver.state.duplicates) <= set(by_key)
    print(
        f"crash loop: {LOOPS} kills (seed {seed}), {flipper.flips} flips, {len(seen)} results "
        f"seen committed, {len(rows)} notices, {sum(receiver.state.duplicates.values())} "
        "repeated under their own key"
    )
    for check_id in {row.check.check_id for row in rows}:
        committed_order = [r.key for r in rows if r.check.check_id == check_id]  # outbox id order
        arrival_order = [d["key"] for d in accepted if d["check"]["id"] == check_id]
        assert arrival_order == committed_order, f"{check_id}: notices out of order (seed {seed})"
        kinds = [d["kind"] for d in accepted if d["check"]["id"] == check_id]
        expected = ["down", "recovered"] * len(kinds)
        assert kinds == expected[: len(kinds)], f"{check_id}: {kinds} (seed {seed})"
