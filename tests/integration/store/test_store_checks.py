"""Contract: services and checks CRUD, filters, pagination, pausing, the unit of work."""

from __future__ import annotations

import pytest
from store_helpers import FakeClock, add_checks, api_check, make_check, make_result

from nyxmon.domain.model import CheckSource, Service
from nyxmon.errors import CheckNotFoundError, ConflictError, StoreError
from nyxmon.service_layer.reconcile import reconcile_config
from nyxmon.service_layer.records.batches import WriteBatch
from nyxmon.service_layer.records.catalog import CheckQuery, UpsertOutcome
from nyxmon.service_layer.storage import Store


def test_upserted_check_reads_back_equal(store: Store) -> None:
    check = api_check(
        "shop.checkout",
        params={"url": "https://shop.example/checkout", "headers": {"X-A": "1"}, "n": [1, 2]},
        labels={"env": "prod", "team": "payments"},
        conditions=("[STATUS] == 200", "[RESPONSE_TIME] < 300"),
    )
    with store.transaction() as tx:
        assert tx.checks.upsert(check) is UpsertOutcome.ADDED
        tx.commit()
    assert store.get_check("shop.checkout") == check


def test_upsert_reports_unchanged_and_changed(store: Store) -> None:
    add_checks(store, "a.one")
    with store.transaction() as tx:
        assert tx.checks.upsert(api_check("a.one")) is UpsertOutcome.UNCHANGED
        assert tx.checks.upsert(api_check("a.one", interval=60.0)) is UpsertOutcome.CHANGED
        tx.commit()
    stored = store.get_check("a.one")
    assert stored is not None
    assert stored.interval == 60.0


def test_get_of_a_missing_check_is_none(store: Store) -> None:
    assert store.get_check("nope") is None


def test_api_cannot_overwrite_a_config_check(store: Store) -> None:
    reconcile_config(store, [], [make_check("a.one")])
    with pytest.raises(ConflictError, match=r"'a\.one'.*config file"), store.transaction() as tx:
        tx.checks.upsert(api_check("a.one", interval=99.0))
    stored = store.get_check("a.one")
    assert stored is not None
    assert stored.interval == 30.0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        pytest.param("interval", 0.0, id="zero-interval"),
        pytest.param("timeout", -1.0, id="negative-timeout"),
        pytest.param("interval", float("nan"), id="nan-interval"),
    ],
)
def test_invalid_check_is_refused_naming_id_and_field(
    store: Store, field: str, value: float
) -> None:
    with pytest.raises(StoreError, match=rf"'a\.bad'.*{field}"), store.transaction() as tx:
        tx.checks.upsert(api_check("a.bad", **{field: value}))
    assert store.get_check("a.bad") is None


def test_transaction_without_commit_rolls_back(store: Store) -> None:
    with store.transaction() as tx:
        tx.checks.upsert(api_check("a.one"))
    assert store.get_check("a.one") is None


def test_transaction_rolls_back_on_exception(store: Store) -> None:
    def add_then_fail() -> None:
        with store.transaction() as tx:
            tx.checks.upsert(api_check("a.one"))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        add_then_fail()
    assert store.get_check("a.one") is None


def test_transaction_explicit_rollback_discards_only_what_came_after_commit(store: Store) -> None:
    with store.transaction() as tx:
        tx.checks.upsert(api_check("a.one"))
        tx.commit()
        tx.checks.upsert(api_check("a.two"))
        tx.rollback()
        assert tx.checks.get("a.two") is None
    assert store.get_check("a.one") is not None
    assert store.get_check("a.two") is None


def test_list_filters_by_service_type_label_and_flags(store: Store) -> None:
    with store.transaction() as tx:
        tx.checks.upsert(api_check("web.home", labels={"env": "prod", "tier": "1"}))
        tx.checks.upsert(api_check("web.api", type="json", labels={"env": "prod"}))
        tx.checks.upsert(api_check("db.main", type="tcp", labels={"env": "dev"}, enabled=False))
        tx.checks.upsert(api_check("db.replica", type="tcp", paused=True))
        tx.commit()
    reconcile_config(store, [], [make_check("dns.root", type="dns")])

    def ids(**filters: object) -> list[str]:
        return [c.id for c in store.list_checks(CheckQuery(**filters)).items]  # type: ignore[arg-type]

    assert ids() == ["db.main", "db.replica", "dns.root", "web.api", "web.home"]
    assert ids(service="web") == ["web.api", "web.home"]
    assert ids(type="tcp") == ["db.main", "db.replica"]
    assert ids(labels={"env": "prod"}) == ["web.api", "web.home"]
    assert ids(labels={"env": "prod", "tier": "1"}) == ["web.home"]
    assert ids(labels={"env": "staging"}) == []
    assert ids(enabled=False) == ["db.main"]
    assert ids(paused=True) == ["db.replica"]
    assert ids(source=CheckSource.CONFIG) == ["dns.root"]
    assert ids(source=CheckSource.API, service="db", enabled=True) == ["db.replica"]


def test_label_filter_keys_with_dots_and_quotes_match_exactly(store: Store) -> None:
    with store.transaction() as tx:
        tx.checks.upsert(api_check("a.one", labels={'app.kubernetes.io/"name"': "x"}))
        tx.checks.upsert(api_check("a.two", labels={"app": "x"}))
        tx.commit()
    query = CheckQuery(labels={'app.kubernetes.io/"name"': "x"})
    assert [c.id for c in store.list_checks(query).items] == ["a.one"]


def test_pagination_returns_pages_in_id_order_with_total(store: Store) -> None:
    add_checks(store, *(f"svc.c{i:02d}" for i in range(25)))
    pages = [store.list_checks(CheckQuery(limit=10, offset=o)) for o in (0, 10, 20)]
    assert [p.total for p in pages] == [25, 25, 25]
    assert [len(p.items) for p in pages] == [10, 10, 5]
    seen = [c.id for p in pages for c in p.items]
    assert seen == sorted(f"svc.c{i:02d}" for i in range(25))
    assert store.list_checks(CheckQuery(limit=10, offset=30)).items == ()


def test_negative_pagination_is_refused() -> None:
    with pytest.raises(ValueError, match="offset"):
        CheckQuery(offset=-1)
    with pytest.raises(ValueError, match="limit"):
        CheckQuery(limit=-5)


def test_set_paused_changes_only_the_flag(store: Store) -> None:
    add_checks(store, "a.one")
    with store.transaction() as tx:
        paused = tx.checks.set_paused("a.one", True)
        tx.commit()
    assert paused == api_check("a.one", paused=True)
    assert store.list_checks(CheckQuery(paused=True)).total == 1


def test_set_paused_on_a_missing_check_names_it(store: Store) -> None:
    with pytest.raises(CheckNotFoundError, match="'ghost'"), store.transaction() as tx:
        tx.checks.set_paused("ghost", True)


def test_delete_removes_the_check_and_its_history(store: Store, clock: FakeClock) -> None:
    add_checks(store, "a.one", "a.two")
    store.write_batch(
        WriteBatch([make_result("a.one", clock.now), make_result("a.two", clock.now)])
    )
    with store.transaction() as tx:
        assert tx.checks.delete("a.one") is True
        assert tx.checks.delete("a.one") is False
        tx.commit()
    assert store.get_check("a.one", include_archived=True) is None
    assert store.count_results() == 1
    with pytest.raises(CheckNotFoundError):
        store.count_results("a.one")


def test_archived_check_is_hidden_but_keeps_history(store: Store, clock: FakeClock) -> None:
    add_checks(store, "a.one")
    store.write_batch(WriteBatch([make_result("a.one", clock.now)]))
    with store.transaction() as tx:
        assert tx.checks.archive("a.one") is True
        assert tx.checks.archive("a.one") is False
        tx.commit()
    assert store.get_check("a.one") is None
    assert store.get_check("a.one", include_archived=True) is not None
    assert store.list_checks().total == 0
    assert [c.id for c in store.list_checks(CheckQuery(archived=True)).items] == ["a.one"]
    assert store.list_checks(CheckQuery(archived=None)).total == 1
    assert store.count_results("a.one") == 1


def test_services_crud(store: Store) -> None:
    web = Service("web", group="frontend", labels={"env": "prod"}, description="the site")
    with store.transaction() as tx:
        assert tx.services.upsert(web) is UpsertOutcome.ADDED
        assert tx.services.upsert(web) is UpsertOutcome.UNCHANGED
        assert tx.services.upsert(Service("db")) is UpsertOutcome.ADDED
        tx.commit()
    assert store.get_service("web") == web
    assert [s.name for s in store.list_services()] == ["db", "web"]
    with store.transaction() as tx:
        assert tx.services.delete("db") is True
        assert tx.services.delete("db") is False
        tx.commit()
    assert store.get_service("db") is None


def test_api_cannot_change_a_config_service(store: Store) -> None:
    reconcile_config(store, [Service("web", description="from file")], [])
    with pytest.raises(ConflictError, match="'web'"), store.transaction() as tx:
        tx.services.upsert(Service("web", description="from api"))
    service = store.get_service("web")
    assert service is not None
    assert service.description == "from file"


def test_checks_are_read_with_their_services_current_labels_and_group(store: Store) -> None:
    """Inheritance at read time: a service's labels apply to its checks as they are now (own
    labels win), a check keeps only its own labels, and the label filter sees both."""
    with store.transaction() as tx:
        tx.services.upsert(Service("shop", group="Public", labels={"team": "web", "tier": "b"}))
        tx.checks.upsert(api_check("shop.front", labels={"tier": "front"}))
        tx.checks.upsert(api_check("shop.back"))
        tx.checks.upsert(api_check("solo.one", labels={"team": "web"}))
        tx.commit()
    front = store.get_check("shop.front")
    assert front is not None
    assert (dict(front.labels), front.group) == ({"tier": "front"}, "Public")
    assert dict(front.effective_labels) == {"team": "web", "tier": "front"}

    def ids(**labels: str) -> list[str]:
        return [c.id for c in store.list_checks(CheckQuery(labels=labels)).items]

    assert ids(team="web") == ["shop.back", "shop.front", "solo.one"]
    assert ids(tier="front") == ["shop.front"]
    assert ids(tier="b") == ["shop.back"]
    assert store.list_checks(CheckQuery(labels={"team": "web"})).total == 3
    before = store.checks_fingerprint()
    with store.transaction() as tx:
        tx.services.upsert(Service("shop", labels={"team": "ops"}))
        tx.commit()
    assert store.checks_fingerprint() != before, "the live views must notice a service change"
    assert ids(team="ops") == ["shop.back", "shop.front"]
    back = store.get_check("shop.back")
    assert back is not None
    assert (dict(back.labels), dict(back.effective_labels), back.group) == ({}, {"team": "ops"}, "")


def test_checks_with_equal_params_share_one_mapping_when_listed(store: Store) -> None:
    """Thousands of checks often differ only in name: one read-only mapping per distinct
    params in a listing, not one per check (memory of a 5,000-check agent)."""
    same = {"host": "db.example", "port": 5432}
    with store.transaction() as tx:
        for check_id in ("a.one", "a.two"):
            tx.checks.upsert(api_check(check_id, params=same))
        tx.checks.upsert(api_check("a.three", params={"host": "other.example", "port": 5432}))
        tx.commit()
    one, three, two = store.list_checks(CheckQuery()).items
    assert one.params is two.params
    assert dict(one.params) == same
    assert three.params is not one.params
    assert dict(three.params) == {"host": "other.example", "port": 5432}
