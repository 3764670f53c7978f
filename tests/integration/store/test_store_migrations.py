"""Contract: a fresh store is at the latest schema, reopening is a no-op, newer is refused."""

from __future__ import annotations

import pytest
from store_helpers import T0, StoreHarness, add_checks, make_result

from nyxmon.errors import SchemaVersionError
from nyxmon.service_layer.records.batches import WriteBatch
from nyxmon.service_layer.storage import Store


def test_fresh_store_is_at_the_latest_schema_version(store: Store) -> None:
    assert store.schema_version >= 1
    assert store.db_info().schema_version == store.schema_version


def test_reopening_keeps_data_and_version(harness: StoreHarness, store: Store) -> None:
    add_checks(store, "a.one")
    store.write_batch(WriteBatch([make_result("a.one", T0)]))
    version = store.schema_version
    again = harness.reopen(store)
    assert again.schema_version == version
    assert again.count_results("a.one") == 1
    assert [c.id for c in again.list_checks().items] == ["a.one"]


def test_a_newer_schema_is_refused_naming_both_versions(
    harness: StoreHarness, store: Store
) -> None:
    known = store.schema_version
    harness.set_schema_version(store, known + 5)
    with pytest.raises(SchemaVersionError, match=rf"version {known + 5}.*up to version {known}"):
        harness.reopen(store)


def test_db_info_counts_rows_and_spans(store: Store) -> None:
    add_checks(store, "a.one", "a.two")
    store.write_batch(WriteBatch([make_result("a.one", T0 + 5), make_result("a.two", T0 - 5)]))
    info = store.db_info()
    assert info.row_counts["checks"] == 2
    assert info.row_counts["results"] == 2
    assert info.oldest_result_at == T0 - 5
    assert info.newest_result_at == T0 + 5
    assert info.size_bytes > 0
    assert info.hourly_rolled_up_to is None
