"""Contract: a check's locations and quorum, and each location's view of it."""

from __future__ import annotations

from store_helpers import FakeClock, add_checks, make_check, make_result

from nyxmon.domain.alerting.types import AlertState
from nyxmon.domain.locations import LocationView
from nyxmon.service_layer.records.batches import WriteBatch
from nyxmon.service_layer.records.catalog import UpsertOutcome
from nyxmon.service_layer.storage import Store


def view(location: str, state: AlertState, at: float, agent: int = 1) -> LocationView:
    return LocationView(
        "a.one",
        location,
        state,
        at - 30,
        at,
        f"{state.value} from {location}",
        agent,
        {"health": state.value, "failures": 2},
    )


def test_a_check_keeps_its_locations_and_quorum(store: Store) -> None:
    check = make_check("a.one", locations=("eu", "us", "ap"), quorum=3)
    with store.transaction() as tx:
        tx.checks.upsert(check)
        tx.commit()
    got = store.get_check("a.one")
    assert got is not None
    assert (got.locations, got.quorum) == (("eu", "us", "ap"), 3)
    add_checks(store, "b.two")
    plain = store.get_check("b.two")
    assert plain is not None
    assert (plain.locations, plain.quorum) == ((), None)


def test_changing_only_the_locations_is_a_change(store: Store) -> None:
    with store.transaction() as tx:
        tx.checks.upsert(make_check("a.one", locations=("eu",)))
        outcome = tx.checks.upsert(make_check("a.one", locations=("eu", "us")))
        tx.commit()
    assert outcome is UpsertOutcome.CHANGED


def test_views_are_written_with_the_results_and_replaced_per_location(
    store: Store, clock: FakeClock
) -> None:
    add_checks(store, "a.one", "b.two")
    assert store.location_views() == {}
    store.write_batch(
        WriteBatch(
            results=[make_result("a.one", clock.now)],
            views=[view("eu", AlertState.UP, clock.now), view("us", AlertState.DOWN, clock.now)],
        )
    )
    store.write_batch(WriteBatch(views=[view("us", AlertState.UP, clock.now + 30, agent=9)]))
    views = store.location_views(["a.one", "b.two"])
    assert list(views) == ["a.one"]
    eu, us = views["a.one"]
    assert eu == view("eu", AlertState.UP, clock.now)
    assert us == view("us", AlertState.UP, clock.now + 30, agent=9)
    assert store.location_views() == views


def test_a_batch_holding_two_views_of_one_location_keeps_the_newest(
    store: Store, clock: FakeClock
) -> None:
    add_checks(store, "a.one")
    store.write_batch(
        WriteBatch(
            views=[view("eu", AlertState.UP, clock.now), view("eu", AlertState.DOWN, clock.now + 1)]
        )
    )
    ((only,),) = store.location_views().values()
    assert only.state is AlertState.DOWN


def test_deleting_a_check_deletes_its_views(store: Store, clock: FakeClock) -> None:
    add_checks(store, "a.one")
    store.write_batch(WriteBatch(views=[view("eu", AlertState.UP, clock.now)]))
    with store.transaction() as tx:
        assert tx.checks.delete("a.one")
        tx.commit()
    assert store.location_views() == {}
