"""Several agents on one PostgreSQL schema: registry and heartbeat, check leases claimed with
SKIP LOCKED (disjoint, renewed, taken over once run out, freed), notices claimed by
compare-and-set, and the config applied under an advisory lock. The SQLite store keeps its
one-agent lock (``test_agent_lock.py``)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import psycopg
import pytest
from store_helpers import add_checks, make_check, make_result
from test_store_alerting import outbox_row

from nyxmon.domain.alerting.types import AlertState
from nyxmon.domain.locations import LocationView
from nyxmon.service_layer.records.batches import WriteBatch
from nyxmon.service_layer.storage import Census
from nyxmon.store.postgres import PostgresStore


@pytest.fixture
def store(pg_dsn: str) -> Iterator[PostgresStore]:
    with PostgresStore(pg_dsn, readers=2) as opened:
        yield opened
        opened.close()


def _age(dsn: str, sql: str, *params: object) -> None:
    """Move server-side times back (what waiting for a lease to run out would do)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.encode(), params)


def test_agents_register_heartbeat_and_count_the_live_ones(store: PostgresStore) -> None:
    one = store.claim_agent(location="eu", lease_seconds=5)
    two = store.claim_agent(location="eu", lease_seconds=5)
    other = store.claim_agent(location="us", lease_seconds=5)
    try:
        assert one.shared is not None
        assert two.shared is not None
        assert one.shared.agent_id != two.shared.agent_id
        assert one.shared.heartbeat() == Census(2, 3)  # us is another location
        _age(
            store.dsn,
            "UPDATE agents SET last_heartbeat = now() - interval '6 s' WHERE id = %s",
            two.shared.agent_id,
        )
        assert one.shared.heartbeat() == Census(1, 2)  # two stopped a lease period ago
        assert two.shared.heartbeat() == Census(2, 3)  # and counts again once it does
        with psycopg.connect(store.dsn) as conn:
            rows = conn.execute(
                "SELECT name, location, pid, host FROM agents ORDER BY id"
            ).fetchall()
        assert [r[1] for r in rows] == ["eu", "eu", "us"]
        assert all(r[2] > 0 and r[3] for r in rows)
    finally:
        two.release()
        other.release()
    with psycopg.connect(store.dsn) as conn:
        assert conn.execute("SELECT count(*) FROM agents").fetchone() == (1,)
    one.release()


def test_leases_are_claimed_disjointly_renewed_taken_over_and_freed(store: PostgresStore) -> None:
    add_checks(store, *(f"s.c{n:02d}" for n in range(40)))
    a = store.claim_agent(lease_seconds=5).shared
    b = store.claim_agent(lease_seconds=5).shared
    assert a is not None
    assert b is not None
    assert a.leases.sync() == Census(0, 40)  # state leases only: no check names a location
    got: dict[str, frozenset[str]] = {}

    def claim(name: str, leases: object) -> None:
        got[name] = leases.claim(25).checks  # type: ignore[attr-defined]

    threads = [threading.Thread(target=claim, args=(n, m.leases)) for n, m in (("a", a), ("b", b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not got["a"] & got["b"]  # SKIP LOCKED: never the same check twice
    assert len(got["a"] | got["b"]) == 40
    assert a.leases.renew() == got["a"]

    # b's leases run out (it stopped renewing): a renewal by b finds them gone, a takes them.
    _age(
        store.dsn,
        "UPDATE check_leases SET expires = now() - interval '1 s' WHERE owner = %s",
        b.agent_id,
    )
    assert b.leases.renew() == frozenset()
    taken = a.leases.claim(100)
    assert taken.checks == got["b"]
    assert taken.taken_over == got["b"]  # their holder let them run out: runs were missed
    assert a.leases.renew() == got["a"] | got["b"]

    # Freed leases go to whoever claims next; a check that leaves the catalog loses its row.
    a.leases.release(sorted(got["b"])[:5])
    freed = b.leases.claim(100)
    assert len(freed.checks) == 5
    assert not freed.taken_over  # given up on purpose: nothing was missed
    with store.transaction() as tx:
        tx.checks.archive("s.c00")
        tx.commit()
    assert a.leases.sync() == Census(0, 39)
    a.release()  # a clean stop frees everything
    b.leases.claim(100)
    assert len(b.leases.renew()) == 39
    b.release()


def test_a_notice_is_claimed_by_one_agent_until_its_holder_stops(store: PostgresStore) -> None:
    add_checks(store, "a.one")
    receipt = store.write_batch(WriteBatch(outbox=[outbox_row("k1")]))
    (row_id,) = receipt.outbox_ids
    assert row_id is not None
    a = store.claim_agent(lease_seconds=5).shared
    b = store.claim_agent(lease_seconds=5).shared
    assert a is not None
    assert b is not None
    assert a.notices.claimable(time.time() + 1) == (row_id,)
    assert a.notices.claim(row_id)
    assert a.notices.claim(row_id)  # its own claim again: a retry
    assert not b.notices.claim(row_id)
    assert b.notices.claimable(time.time() + 1) == ()

    # a stops heartbeating: its claim no longer holds, b takes the notice over.
    _age(
        store.dsn,
        "UPDATE agents SET last_heartbeat = now() - interval '6 s' WHERE id = %s",
        a.agent_id,
    )
    assert b.notices.claimable(time.time() + 1) == (row_id,)
    assert b.notices.claim(row_id)
    assert not a.notices.claim(row_id)
    b.notices.delivered(row_id, 1, 123.0)
    (entry,) = store.outbox(status="delivered")
    assert entry.key == "k1"
    assert entry.attempts == 1
    assert not b.notices.claim(row_id)  # delivered: nobody sends it again
    a.release()
    b.release()


def test_results_name_the_agent_that_wrote_them(store: PostgresStore) -> None:
    add_checks(store, "a.one")
    store.write_batch(WriteBatch(results=[make_result("a.one", started_at=1000.0)]))
    membership = store.claim_agent().shared
    assert membership is not None
    store.write_batch(WriteBatch(results=[make_result("a.one", started_at=1001.0)]))
    with psycopg.connect(store.dsn) as conn:
        rows = conn.execute("SELECT agent_id FROM results ORDER BY started_ms").fetchall()
    assert rows == [(None,), (membership.agent_id,)]
    membership.release()


def test_the_config_is_applied_by_one_agent_at_a_time(pg_dsn: str) -> None:
    with PostgresStore(pg_dsn, readers=1) as one, PostgresStore(pg_dsn, readers=1) as two:
        order: list[str] = []
        with one.transaction() as tx:
            tx.serialize("config")
            waiter = threading.Thread(target=lambda: _serialized(two, order))
            waiter.start()
            time.sleep(0.5)
            order.append("first done")
            tx.commit()
        waiter.join(10)
        assert order == ["first done", "second in"]
        one.close()
        two.close()


def _serialized(store: PostgresStore, order: list[str]) -> None:
    with store.transaction() as tx:
        tx.serialize("config")
        order.append("second in")
        tx.commit()


def test_agents_at_two_locations_share_one_state_lease_per_check(store: PostgresStore) -> None:
    """Before locations, each location had a row per check: two locations probed every
    check twice and both sent its notices. A check without locations has one lease now."""
    add_checks(store, *(f"s.c{n:02d}" for n in range(10)))
    eu = store.claim_agent(location="eu", lease_seconds=5).shared
    us = store.claim_agent(location="us", lease_seconds=5).shared
    assert eu is not None
    assert us is not None
    assert eu.leases.sync() == Census(0, 10)
    assert us.leases.sync() == Census(0, 10)
    mine = eu.leases.claim(6).checks
    theirs = us.leases.claim(100).checks
    assert len(mine) == 6
    assert len(theirs) == 4
    assert not mine & theirs
    eu.release()
    us.release()


def test_a_located_check_has_a_probe_lease_per_location_it_names(store: PostgresStore) -> None:
    with store.transaction() as tx:
        tx.checks.upsert(make_check("web.shop", locations=("eu", "us")))
        tx.commit()
    eu = store.claim_agent(location="eu", lease_seconds=5).shared
    us = store.claim_agent(location="us", lease_seconds=5).shared
    ap = store.claim_agent(location="ap", lease_seconds=5).shared
    assert eu is not None
    assert us is not None
    assert ap is not None
    assert eu.leases.sync() == Census(1, 1)
    assert us.leases.sync() == Census(1, 1)
    assert ap.leases.sync() == Census(0, 1)  # ap probes nothing of it, but may hold its state
    assert ap.leases.claim(10).checks == {"web.shop"}
    assert eu.leases.claim(10).checks == {"web.shop@eu"}
    assert us.leases.claim(10).checks == {"web.shop@us"}
    assert eu.leases.renew() == {"web.shop@eu"}

    # The combiner (the state lease's holder) reads every location's view.
    views = [
        LocationView("web.shop", name, AlertState.DOWN, 10.0, 20.0, "503", agent.agent_id)
        for name, agent in (("eu", eu), ("us", us))
    ]
    store.write_batch(WriteBatch(views=views))
    assert ap.leases.held_views() == {"web.shop": (views[0], views[1])}
    assert eu.leases.held_views() == {}

    # The check stops naming us: its probe lease there goes, the other stays.
    with store.transaction() as tx:
        tx.checks.upsert(make_check("web.shop", locations=("eu",)))
        tx.commit()
    assert us.leases.sync() == Census(0, 1)
    assert us.leases.renew() == frozenset()
    eu.leases.release(["web.shop@eu"])
    assert eu.leases.claim(10).checks == {"web.shop@eu"}
    for agent in (eu, us, ap):
        agent.release()
