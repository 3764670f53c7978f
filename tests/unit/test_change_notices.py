"""Change notices stay under PostgreSQL's payload limit, and say "reload all" past a bound."""

from __future__ import annotations

import pytest

from nyxmon.domain.model import Outcome, Result
from nyxmon.service_layer.records.alerts import StateRow, Transition
from nyxmon.service_layer.records.batches import WriteBatch
from nyxmon.store.postgres.change_notices import (
    MAX_PAYLOAD,
    MAX_PAYLOADS,
    RELOAD_ALL,
    changed_checks,
    parse_payload,
    payloads,
)


def test_a_few_ids_fit_in_one_notice_and_read_back() -> None:
    texts = payloads(["web.b", "web.a", "db-1"])
    assert texts == ["db-1 web.a web.b"]
    assert parse_payload(texts[0]) == {"db-1", "web.a", "web.b"}


def test_no_ids_make_no_notice() -> None:
    assert payloads([]) == []


@pytest.mark.parametrize("count", [400, 1000, 1300])
def test_many_ids_are_split_under_the_limit_and_lose_none(count: int) -> None:
    ids = {f"service-{n:05d}.check-with-a-long-name" for n in range(count)}
    texts = payloads(ids)
    assert 1 < len(texts) <= MAX_PAYLOADS
    assert all(len(text.encode()) <= MAX_PAYLOAD for text in texts)
    heard: set[str] = set()
    for text in texts:
        found = parse_payload(text)
        assert found is not None
        heard |= found
    assert heard == ids


def test_past_the_bound_one_notice_says_reload_all() -> None:
    ids = [f"{'x' * 120}.{n:06d}" for n in range(MAX_PAYLOADS * MAX_PAYLOAD // 100)]
    assert payloads(ids) == [RELOAD_ALL]
    assert parse_payload(RELOAD_ALL) is None


def test_a_batch_changes_the_checks_of_its_results_states_and_transitions() -> None:
    batch = WriteBatch(
        results=(Result("a", 1.0, 1.0, 0.1, Outcome.OK),),
        states=(StateRow("b", "down", 1.0, {}, 1.0),),
        transitions=(Transition("c", 1.0, "up", "down", "boom", 1.0),),
    )
    assert changed_checks(batch) == {"a", "b", "c"}
