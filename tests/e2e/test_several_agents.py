"""Three agents on one PostgreSQL schema, one killed with SIGKILL at a random moment while
checks flip up and down and notices flow to a webhook receiver.

What must hold (issue 17): the killed agent's checks resume on the others within one lease
period; the receiver sees every
notice exactly once; every result an agent committed is still there, and every probe of the
agents that stopped cleanly was committed (the target's hit count per check equals the
stored results); and no check was probed by two agents at once (stored results carry the
probing agent's id: per check, no two agents share a scheduled slot and no two runs of
different agents overlap).
"""

from __future__ import annotations

import itertools
import random
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from tests.e2e.conftest import AgentProcess, free_port, wait_for
from tests.servers.http_target import HttpTarget
from tests.servers.webhook_receiver import ThreadedWebhookReceiver

pytestmark = pytest.mark.timeout(150)

CHECKS = [f"c{n:02d}" for n in range(30)]
LEASE = 6.0
INTERVAL = 1.0


def _config(path: Path, dsn: str, hook_url: str, target: HttpTarget) -> Path:
    checks = "".join(
        f"      - {{name: {name}, type: http, url: '{target.url(f'/named/{name}')}'}}\n"
        for name in CHECKS
    )
    path.write_text(
        f"web: {{listen: '127.0.0.1:{free_port()}', separate_process: false}}\n"
        f"agent: {{database: '{dsn}', lease_seconds: {LEASE:g}s, shutdown_grace: 3s}}\n"
        f"defaults: {{interval: {INTERVAL:g}s, timeout: 900ms, alert: {{failure_threshold: 1,"
        " success_threshold: 1, retries: 0, flap_window: 0}}\n"
        f"alerting:\n  routes:\n    - {{name: hook, type: webhook, url: '{hook_url}'}}\n"
        f"services:\n  - name: svc\n    checks:\n{checks}"
    )
    return path


def _rows(dsn: str, sql: str, *params: object) -> list[tuple[object, ...]]:
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            return list(conn.execute(sql.encode(), params).fetchall())
    except psycopg.Error:
        return []  # before the first agent made the schema


def _owners(dsn: str) -> dict[int, int]:
    rows = _rows(
        dsn,
        "SELECT owner, count(*) FROM check_leases WHERE owner IS NOT NULL"
        " AND expires > now() GROUP BY owner",
    )
    return {int(str(owner)): int(str(n)) for owner, n in rows}


class Flipper:
    """Flips a few checks down or up every 1.5 s, so notices keep coming."""

    def __init__(self, target: HttpTarget, seed: int) -> None:
        self._down = target.state.down
        self._rng = random.Random(seed)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Flipper:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(1.5):
            for name in self._rng.sample(CHECKS, 3):
                if name in self._down:
                    self._down.discard(name)
                else:
                    self._down.add(name)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._down.clear()


def test_a_killed_agents_checks_move_to_the_others_with_no_double_notice_or_probe(
    tmp_path: Path, pg_dsn: str, target: HttpTarget, agents: Callable[..., AgentProcess]
) -> None:
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    print(f"seed {seed}")
    receiver = ThreadedWebhookReceiver()
    hook = receiver.start()
    flipper = Flipper(target, seed)
    try:
        started = [
            agents(
                "run", "--config", str(_config(tmp_path / f"a{n}.yaml", pg_dsn, hook.url(), target))
            )
            for n in range(3)
        ]

        def logs() -> str:
            return "\n".join(f"--- agent {n}\n{a.output()[-1500:]}" for n, a in enumerate(started))

        # All three share the checks (each about a third) before the load begins.
        wait_for(
            lambda: (
                len(owners := _owners(pg_dsn)) == 3
                and sum(owners.values()) == len(CHECKS)
                and min(owners.values()) >= len(CHECKS) // 3 - 2
            ),
            timeout=60,
            what=f"three agents sharing the checks\n{logs()}",
        )
        flipper.start()
        time.sleep(3.0 + rng.uniform(0.0, 2.0))  # under load, at a random moment

        victim = started[rng.randrange(3)]
        (dead_id,) = _rows(pg_dsn, "SELECT id FROM agents WHERE pid = %s", victim.proc.pid)[0]
        killed_at = time.time()
        victim.signal(signal.SIGKILL)
        victim.wait(10)
        orphans = {
            str(r[0])
            for r in _rows(pg_dsn, "SELECT check_id FROM check_leases WHERE owner = %s", dead_id)
        }
        committed_by_dead = _rows(
            pg_dsn, "SELECT count(*) FROM results WHERE agent_id = %s", dead_id
        )[0][0]
        assert orphans, "the killed agent held no checks"

        # Its checks resume on the others.
        def resumed() -> bool:
            rows = _rows(
                pg_dsn,
                "SELECT count(DISTINCT c.id) FROM results r JOIN checks c ON c.pk = r.check_pk"
                " WHERE r.agent_id <> %s AND r.started_ms > %s AND c.id = ANY(%s)",
                dead_id,
                killed_at * 1000,
                [f"svc.{n}" for n in orphans]
                if not next(iter(orphans)).startswith("svc.")
                else sorted(orphans),
            )
            return bool(rows) and rows[0][0] == len(orphans)

        def taken_over() -> bool:
            rows = _rows(
                pg_dsn,
                "SELECT count(*) FROM check_leases WHERE check_id = ANY(%s)"
                " AND owner <> %s AND expires > now()",
                sorted(orphans),
                dead_id,
            )
            return bool(rows) and rows[0][0] == len(orphans)

        wait_for(taken_over, timeout=LEASE + 20, what=f"the orphaned leases taken\n{logs()}")
        takeover = time.time() - killed_at
        wait_for(resumed, timeout=LEASE + 20, what=f"the orphaned checks resuming\n{logs()}")
        time.sleep(3.0)  # the survivors keep alerting on them for a while
        flipper.stop()

        # Everything flips back up; every notice is sent before the survivors stop.
        wait_for(
            lambda: (
                _rows(pg_dsn, "SELECT count(*) FROM outbox WHERE status = 'pending'")[0][0] == 0
                and all(
                    state == "up"
                    for (state,) in _rows(
                        pg_dsn,
                        "SELECT s.state FROM check_states s JOIN checks c ON c.pk = s.check_pk",
                    )
                )
            ),
            timeout=30,
            what=f"every check up and every notice sent\n{logs()}",
        )
        survivors = [a for a in started if a is not victim]
        for agent in survivors:
            agent.signal(signal.SIGTERM)
        for agent in survivors:
            assert agent.wait(30) == 0, agent.output()[-3000:]
    finally:
        flipper.stop()
        receiver.stop()

    # -- what the database and the receiver say --------------------------------------------
    results = _rows(
        pg_dsn,
        "SELECT c.id, r.agent_id, r.started_ms, r.lag_ms, r.duration_us FROM results r"
        " JOIN checks c ON c.pk = r.check_pk ORDER BY c.id, r.started_ms, r.id",
    )
    by_check: dict[str, list[tuple[int, int, int, int]]] = {}
    for check_id, agent_id, started_ms, lag_ms, duration_us in results:
        assert agent_id is not None, "a result without the agent that probed it"
        by_check.setdefault(str(check_id), []).append(
            (int(str(agent_id)), int(str(started_ms)), int(str(lag_ms)), int(str(duration_us)))
        )

    # Resumed within one lease period of the kill.
    failover = 0.0
    for check_id in orphans:
        first = min(s for a, s, _, _ in by_check[check_id] if a != dead_id and s > killed_at * 1000)
        failover = max(failover, first / 1000 - killed_at)
    print(
        f"{len(orphans)} checks: leases taken {takeover:.2f} s after the kill, probed again "
        f"after {failover:.2f} s (lease {LEASE:g} s, interval {INTERVAL:g} s)"
    )
    # Lease rows and heartbeats last the period less 2 s, and the others claim every
    # second, then run a taken check at once: within the lease period on a quiet machine
    # (bench/multi_agent.py measures it); a loaded CI machine gets a second of slack here.
    assert takeover <= LEASE + 1.0
    assert failover <= LEASE + 1.5

    # Never probed by two agents at once.
    for check_id, runs in by_check.items():
        slots: dict[int, int] = {}
        for agent_id, started_ms, lag_ms, _ in runs:
            slot = round((started_ms - lag_ms) / (INTERVAL * 1000))
            assert slots.setdefault(slot, agent_id) == agent_id, f"{check_id} slot {slot} twice"
        for (a1, s1, _, d1), (a2, s2, _, _) in itertools.pairwise(runs):
            if a1 != a2:
                assert s2 >= s1 + d1 // 1000, f"{check_id}: agents {a1} and {a2} overlap"

    # Nothing committed was lost: the killed agent's results are all still there, and every
    # probe of a check it never ran reached the store (hits at the target = stored results).
    assert _count(pg_dsn, dead_id) == committed_by_dead
    ran_by_dead = {c for c, runs in by_check.items() if any(a == dead_id for a, *_ in runs)}
    for name in CHECKS:
        check_id = f"svc.{name}"
        hits = target.state.hits[f"/named/{name}"]
        stored = len(by_check.get(check_id, []))
        if check_id in ran_by_dead or check_id in orphans:
            assert 0 <= hits - stored <= 5, f"{check_id}: {hits} probes, {stored} stored"
        else:
            assert hits == stored, f"{check_id}: {hits} probes, {stored} stored"

    # Every notice once: each outbox row delivered, each key accepted once, none twice.
    keys = {str(k) for (k,) in _rows(pg_dsn, "SELECT key FROM outbox WHERE status = 'delivered'")}
    assert _rows(pg_dsn, "SELECT count(*) FROM outbox WHERE status <> 'delivered'")[0][0] == 0
    assert len(keys) >= 5
    assert hook.state.accepted_keys == keys
    assert not hook.state.duplicates, hook.state.duplicates


def _count(dsn: str, agent_id: int) -> int:
    return int(str(_rows(dsn, "SELECT count(*) FROM results WHERE agent_id = %s", agent_id)[0][0]))
