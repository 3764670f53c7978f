"""Contract: readers are never blocked by the writer, and see only committed data."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from store_helpers import T0, add_checks, api_check, make_result

from nyxmon.service_layer.records.batches import WriteBatch
from nyxmon.service_layer.storage import Store

T = TypeVar("T")


def _in_thread(fn: Callable[[], T]) -> T:
    """Run ``fn`` in a fresh thread; fail if it does not finish (i.e. it was blocked)."""
    box: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            box.append(fn())
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=20)
    assert not thread.is_alive(), "the reader was blocked by the open write transaction"
    if errors:
        raise errors[0]
    return box[0]


def test_reader_reads_while_the_writer_holds_a_transaction(store: Store) -> None:
    add_checks(store, "a.one")
    store.write_batch(WriteBatch([make_result("a.one", T0)]))
    with store.transaction() as tx:
        tx.checks.upsert(api_check("a.two"))
        tx.results.add_many([make_result("a.one", T0 + i) for i in range(1, 50)])
        seen = _in_thread(
            lambda: (
                [c.id for c in store.list_checks().items],
                store.count_results(),
                store.latest_results()["a.one"].result.started_at,
            )
        )
        assert seen == (["a.one"], 1, T0)
        tx.commit()
    assert _in_thread(store.count_results) == 50


def test_many_reader_threads_and_one_writer_agree_on_the_end_state(store: Store) -> None:
    add_checks(store, "a.one")
    stop = threading.Event()
    counts: list[int] = []
    failures: list[BaseException] = []

    def reader() -> None:
        try:
            while not stop.is_set():
                counts.append(store.count_results("a.one"))
        except BaseException as exc:
            failures.append(exc)

    readers = [threading.Thread(target=reader, daemon=True) for _ in range(4)]
    for thread in readers:
        thread.start()
    for batch in range(40):
        store.write_batch(
            WriteBatch([make_result("a.one", T0 + batch * 10 + i) for i in range(10)])
        )
    stop.set()
    for thread in readers:
        thread.join(timeout=20)
    assert not failures
    assert all(c % 10 == 0 for c in counts), "a reader saw half a batch"
    assert store.count_results("a.one") == 400
