"""Contract: reconcile_config makes the stored config checks equal to the file, atomically."""

from __future__ import annotations

import pytest
from store_helpers import FakeClock, add_checks, api_check, make_check, make_result

from nyxmon.domain.model import CheckSource, Service
from nyxmon.errors import ConflictError
from nyxmon.service_layer.reconcile import reconcile_config
from nyxmon.service_layer.records.batches import WriteBatch
from nyxmon.service_layer.records.catalog import CheckQuery, ReconcileReport
from nyxmon.service_layer.storage import Store


def _live_ids(store: Store) -> list[str]:
    return [c.id for c in store.list_checks().items]


def test_first_reconcile_adds_every_check(store: Store) -> None:
    report = reconcile_config(
        store, [Service("web")], [make_check("web.home"), make_check("web.api")]
    )
    assert report == ReconcileReport(added=("web.api", "web.home"))
    assert _live_ids(store) == ["web.api", "web.home"]
    assert all(c.source is CheckSource.CONFIG for c in store.list_checks().items)


def test_reconcile_sorts_checks_into_added_changed_removed_unchanged(store: Store) -> None:
    reconcile_config(store, [], [make_check("a.same"), make_check("a.edit"), make_check("a.gone")])
    report = reconcile_config(
        store, [], [make_check("a.same"), make_check("a.edit", timeout=9.0), make_check("a.new")]
    )
    assert report == ReconcileReport(
        added=("a.new",), changed=("a.edit",), removed=("a.gone",), unchanged=("a.same",)
    )
    edited = store.get_check("a.edit")
    assert edited is not None
    assert edited.timeout == 9.0
    assert _live_ids(store) == ["a.edit", "a.new", "a.same"]
    assert [c.id for c in store.list_checks(CheckQuery(archived=True)).items] == ["a.gone"]


def test_readding_a_removed_check_revives_it_with_its_history(
    store: Store, clock: FakeClock
) -> None:
    reconcile_config(store, [], [make_check("a.one")])
    store.write_batch(WriteBatch([make_result("a.one", clock.now)]))
    reconcile_config(store, [], [])
    assert store.get_check("a.one") is None
    report = reconcile_config(store, [], [make_check("a.one", interval=10.0)])
    assert report == ReconcileReport(added=("a.one",), revived=("a.one",))
    revived = store.get_check("a.one")
    assert revived is not None
    assert revived.interval == 10.0
    assert store.count_results("a.one") == 1


def test_api_checks_are_left_alone(store: Store) -> None:
    add_checks(store, "api.one")
    reconcile_config(store, [], [make_check("a.one")])
    report = reconcile_config(store, [], [])
    assert report.removed == ("a.one",)
    assert _live_ids(store) == ["api.one"]
    assert store.get_check("api.one") == api_check("api.one")


def test_collision_with_an_api_check_changes_nothing(store: Store) -> None:
    add_checks(store, "shared.id")
    reconcile_config(store, [Service("old")], [make_check("a.keep"), make_check("a.gone")])
    with pytest.raises(ConflictError, match=r"'shared\.id'"):
        reconcile_config(
            store,
            [Service("new")],
            [make_check("a.keep", interval=5.0), make_check("a.added"), make_check("shared.id")],
        )
    assert _live_ids(store) == ["a.gone", "a.keep", "shared.id"]
    kept = store.get_check("a.keep")
    assert kept is not None
    assert kept.interval == 30.0
    assert store.get_check("shared.id") == api_check("shared.id")
    assert [s.name for s in store.list_services()] == ["old"]


def test_duplicate_ids_in_the_config_are_refused_naming_the_id(store: Store) -> None:
    with pytest.raises(ConflictError, match=r"'a\.twice'"):
        reconcile_config(store, [], [make_check("a.twice"), make_check("a.twice")])
    assert _live_ids(store) == []


def test_paused_survives_a_reload(store: Store) -> None:
    reconcile_config(store, [], [make_check("a.one")])
    with store.transaction() as tx:
        tx.checks.set_paused("a.one", True)
        tx.commit()
    report = reconcile_config(store, [], [make_check("a.one")])
    assert report.unchanged == ("a.one",)
    stored = store.get_check("a.one")
    assert stored is not None
    assert stored.paused is True


def test_reconcile_stores_every_given_check_as_config(store: Store) -> None:
    reconcile_config(store, [], [api_check("a.one")])
    stored = store.get_check("a.one")
    assert stored is not None
    assert stored.source is CheckSource.CONFIG


def test_services_follow_the_config_but_api_services_stay(store: Store) -> None:
    with store.transaction() as tx:
        tx.services.upsert(Service("api-made"))
        tx.commit()
    reconcile_config(store, [Service("web"), Service("db")], [])
    reconcile_config(store, [Service("web", description="edited")], [])
    assert [s.name for s in store.list_services()] == ["api-made", "web"]
    web = store.get_service("web")
    assert web is not None
    assert web.description == "edited"
