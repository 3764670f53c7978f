"""Contract: write_batch atomicity, history pages, latest result per check, counts."""

from __future__ import annotations

import dataclasses

import pytest
from store_helpers import T0, FakeClock, add_checks, make_result

from nyxmon.domain.model import Outcome, Result
from nyxmon.errors import CheckNotFoundError, StoreError
from nyxmon.service_layer.records.batches import WriteBatch, WriteReceipt
from nyxmon.service_layer.records.results import ResultCursor
from nyxmon.service_layer.storage import Store
from nyxmon.store.sqlite.bulk import CHUNK_ROWS


def test_write_batch_returns_increasing_ids_in_batch_order(store: Store) -> None:
    add_checks(store, "a.one", "a.two")
    first = store.write_batch(WriteBatch([make_result("a.one", T0), make_result("a.two", T0)]))
    second = store.write_batch(WriteBatch([make_result("a.one", T0 + 1)]))
    assert len(first.result_ids) == 2
    assert list(first.result_ids) == sorted(first.result_ids)
    assert second.result_ids[0] > first.result_ids[-1]
    page = store.results("a.one")
    assert [r.id for r in page.items] == [second.result_ids[0], first.result_ids[0]]


def test_a_batch_larger_than_one_insert_statement_keeps_order_and_ids(store: Store) -> None:
    add_checks(store, "a.one", "a.two")
    results = [
        make_result("a.one" if i % 3 else "a.two", T0 + i * 0.001)
        for i in range(2 * CHUNK_ROWS + 5)
    ]
    ids = store.write_batch(WriteBatch(results)).result_ids
    assert list(ids) == list(range(ids[0], ids[0] + len(results)))
    stored = {
        r.id: r.result
        for check in ("a.one", "a.two")
        for r in store.results(check, limit=1000).items
    }
    assert [stored[i] for i in ids] == results


def test_check_ids_that_need_escaping_in_json_map_to_their_own_results(store: Store) -> None:
    odd = ('svc.quote"d', "svc.back\\slash", "svc.ünïcödé ✓", "svc.new\nline")
    add_checks(store, *odd)
    batch = [make_result(check_id, T0 + i) for i, check_id in enumerate(odd * 2)]
    store.write_batch(WriteBatch(batch))
    for check_id in odd:
        assert [r.result.check_id for r in store.results(check_id).items] == [check_id] * 2


def test_an_empty_batch_writes_nothing(store: Store) -> None:
    assert store.write_batch(WriteBatch()) == WriteReceipt()
    assert store.count_results() == 0


def test_results_read_back_equal(store: Store) -> None:
    add_checks(store, "a.one")
    result = Result(
        check_id="a.one",
        scheduled_at=T0,
        started_at=T0 + 0.25,
        duration=0.125,
        outcome=Outcome.FAIL,
        message="status 503",
        timings={"dns": 0.001, "connect": 0.01, "total": 0.125},
        details={"status": 503, "failed": ["[STATUS] == 200"]},
        degraded=True,
    )
    (result_id,) = store.write_batch(WriteBatch([result])).result_ids
    (stored,) = store.results("a.one").items
    assert stored.id == result_id
    assert stored.result == result


_BAD_ROWS = [
    pytest.param({"check_id": "ghost"}, CheckNotFoundError, "'ghost'", id="unknown-check"),
    pytest.param({"duration": -0.5}, StoreError, "duration", id="negative-duration"),
    pytest.param({"started_at": float("nan")}, StoreError, "started_at", id="nan-start"),
    pytest.param({"started_at": 1e300}, StoreError, "started_at", id="start-out-of-range"),
    pytest.param({"duration": 1e300}, StoreError, "duration", id="duration-out-of-range"),
    pytest.param({"outcome": "maybe"}, StoreError, "outcome", id="unknown-outcome"),
]


@pytest.mark.parametrize(("change", "error", "named"), _BAD_ROWS)
def test_a_batch_with_one_bad_row_commits_nothing(
    store: Store, change: dict[str, object], error: type[Exception], named: str
) -> None:
    add_checks(store, "a.one")
    good = [make_result("a.one", T0 + i) for i in range(5)]
    bad = dataclasses.replace(good[3], **change)  # type: ignore[arg-type]
    with pytest.raises(error, match=named):
        store.write_batch(WriteBatch([*good[:3], bad, good[4]]))
    assert store.count_results() == 0
    store.write_batch(WriteBatch(good))
    assert store.count_results() == 5


def test_pages_are_newest_first_and_cover_everything_once(store: Store) -> None:
    add_checks(store, "a.one", "a.other")
    # Several results share a start time: the id breaks the tie.
    starts = [T0 + (i // 3) for i in range(50)]
    ids = store.write_batch(WriteBatch([make_result("a.one", t) for t in starts])).result_ids
    store.write_batch(WriteBatch([make_result("a.other", T0 + 1)]))
    expected = [i for _, i in sorted(zip(starts, ids, strict=True), reverse=True)]
    seen: list[int] = []
    cursor: ResultCursor | None = None
    while True:
        page = store.results("a.one", limit=7, after=cursor)
        seen += [r.id for r in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == expected


def test_page_cursor_is_stable_when_newer_results_arrive(store: Store) -> None:
    add_checks(store, "a.one")
    store.write_batch(WriteBatch([make_result("a.one", T0 + i) for i in range(10)]))
    first = store.results("a.one", limit=4)
    store.write_batch(WriteBatch([make_result("a.one", T0 + 100 + i) for i in range(3)]))
    assert first.next_cursor is not None
    second = store.results("a.one", limit=4, after=first.next_cursor)
    assert [r.result.started_at for r in second.items] == [T0 + 5, T0 + 4, T0 + 3, T0 + 2]


def test_time_range_includes_since_and_excludes_until(store: Store) -> None:
    add_checks(store, "a.one")
    store.write_batch(WriteBatch([make_result("a.one", T0 + i) for i in range(10)]))
    page = store.results("a.one", since=T0 + 2, until=T0 + 5)
    assert [r.result.started_at for r in page.items] == [T0 + 4, T0 + 3, T0 + 2]
    assert page.next_cursor is None
    assert store.count_results("a.one", since=T0 + 2, until=T0 + 5) == 3
    assert store.count_results(since=T0 + 8) == 2


def test_results_of_an_unknown_check_name_it(store: Store) -> None:
    with pytest.raises(CheckNotFoundError, match="'ghost'"):
        store.results("ghost")


def test_a_limit_below_one_is_refused(store: Store) -> None:
    add_checks(store, "a.one")
    with pytest.raises(ValueError, match="limit"):
        store.results("a.one", limit=0)


def test_cursor_round_trips_through_text() -> None:
    cursor = ResultCursor(T0 + 0.1 + 0.2, 42)
    assert ResultCursor.decode(cursor.encode()) == cursor


@pytest.mark.parametrize("token", ["", "12", "abc:1", "1.5:x", "nan:3", "1.0:-1"])
def test_malformed_cursor_is_refused_naming_it(token: str) -> None:
    with pytest.raises(ValueError, match="invalid result cursor"):
        ResultCursor.decode(token)


def test_latest_result_per_check_for_many_checks(store: Store) -> None:
    ids = [f"svc.c{i:03d}" for i in range(300)]
    add_checks(store, *ids)
    results = [
        make_result(check_id, T0 + round_ * 10 + (i % 7), duration=round_ / 10)
        for round_ in range(3)
        for i, check_id in enumerate(ids)
        if not (i % 50 == 0 and round_ > 0)
    ]
    # Written out of time order: latest means newest start, not last written.
    store.write_batch(WriteBatch(results[::-1]))
    latest = store.latest_results([*ids[:150], "ghost"])
    assert set(latest) == set(ids[:150])
    for i, check_id in enumerate(ids[:150]):
        want_round = 0 if i % 50 == 0 else 2
        assert latest[check_id].result.started_at == T0 + want_round * 10 + (i % 7)
    assert set(store.latest_results()) == set(ids)


def test_latest_without_ids_skips_archived_checks(store: Store) -> None:
    add_checks(store, "a.live", "a.old")
    store.write_batch(WriteBatch([make_result("a.live", T0), make_result("a.old", T0)]))
    with store.transaction() as tx:
        tx.checks.archive("a.old")
        tx.commit()
    assert set(store.latest_results()) == {"a.live"}
    assert set(store.latest_results(["a.old"])) == {"a.old"}


def test_results_of_archived_checks_are_still_accepted(store: Store) -> None:
    add_checks(store, "a.old")
    with store.transaction() as tx:
        tx.checks.archive("a.old")
        tx.commit()
    store.write_batch(WriteBatch([make_result("a.old", T0)]))
    assert store.count_results("a.old") == 1


def test_recent_results_of_many_checks_come_newest_first_per_check(
    store: Store, clock: FakeClock
) -> None:
    add_checks(store, "a.one", "a.two", "a.three")
    store.write_batch(
        WriteBatch(
            [make_result("a.one", clock.now + i) for i in range(5)]
            + [make_result("a.two", clock.now + i) for i in range(2)]
        )
    )
    recent = store.recent_results(["a.one", "a.two", "a.three", "a.nope"], limit=3)
    assert [r.result.started_at for r in recent["a.one"]] == [
        clock.now + 4,
        clock.now + 3,
        clock.now + 2,
    ]
    assert len(recent["a.two"]) == 2
    assert "a.three" not in recent
    since = store.recent_results(["a.one"], limit=10, since=clock.now + 3)
    assert len(since["a.one"]) == 2
    points = store.recent_points(["a.one", "a.two", "a.three", "a.nope"], limit=3)
    assert points.keys() == {"a.one", "a.two"}
    for check_id, items in points.items():
        assert [(p.started_at, p.duration, p.ok, p.degraded) for p in items] == [
            (s.result.started_at, s.result.duration, s.result.ok, s.result.degraded)
            for s in recent[check_id]
        ]
    with pytest.raises(ValueError, match="limit"):
        store.recent_points(["a.one"], limit=0)


@pytest.mark.parametrize("token", ["1e300:5", "-1e300:5", "1700000000.5:99999999999999999999999"])
def test_a_cursor_far_out_of_range_reads_as_the_end_or_the_start(store: Store, token: str) -> None:
    add_checks(store, "a.one")
    store.write_batch(WriteBatch([make_result("a.one", T0 + i) for i in range(3)]))
    page = store.results("a.one", after=ResultCursor.decode(token))
    assert len(page.items) == (3 if token.startswith(("1e300", "1700")) else 0)
