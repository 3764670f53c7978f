"""Per-check duration histograms and outcome counters, fed with results, read back by snapshot."""

from __future__ import annotations

import random

from nyxmon.domain.model import Outcome, Result
from nyxmon.web.public.check_metrics import DURATION_BUCKETS, CheckDurations, CheckOutcomes


def _result(check_id: str, total: float, outcome: Outcome = Outcome.OK, **phases: float) -> Result:
    return Result(
        check_id=check_id,
        scheduled_at=0.0,
        started_at=0.0,
        duration=total,
        outcome=outcome,
        timings={**phases, "total": total} if phases else {},
    )


def test_histograms_per_check_and_phase_match_a_direct_count() -> None:
    rng = random.Random(5)
    metric = CheckDurations()
    seen: dict[tuple[str, str], list[float]] = {}
    for _ in range(3000):
        check_id = f"svc.c{rng.randrange(40)}"
        connect, total = rng.expovariate(20), rng.expovariate(2)
        if rng.random() < 0.3:  # no phases: the duration counts as "total"
            result = _result(check_id, total)
            metric._on_result(result)
            seen.setdefault((check_id, "total"), []).append(result.duration)  # to the µs
            continue
        result = _result(check_id, total, connect=connect)
        metric._on_result(result)
        seen.setdefault((check_id, "connect"), []).append(connect)
        seen.setdefault((check_id, "total"), []).append(total)  # the phase, as timed

    samples = {s.labels: s for s in metric.snapshot(0.0).samples}
    assert set(samples) == set(seen)
    for labels, values in seen.items():
        sample = samples[labels]
        assert sample.count == len(values)
        assert abs(sample.sum - sum(values)) < 1e-9
        bounds = [bound for bound, _ in sample.buckets]
        assert bounds == [*DURATION_BUCKETS, float("inf")]
        for bound, cumulative in sample.buckets:
            assert cumulative == sum(1 for v in values if v <= bound), (labels, bound)


def test_a_value_on_a_bucket_bound_counts_in_that_bucket() -> None:
    metric = CheckDurations(buckets=(0.1, 1.0))
    metric._on_result(_result("a", 0.1))
    metric._on_result(_result("a", 1.0))
    metric._on_result(_result("a", 7.0))
    (sample,) = metric.snapshot(0.0).samples
    assert sample.buckets == ((0.1, 1), (1.0, 2), (float("inf"), 3))


def test_outcomes_are_counted_per_check() -> None:
    metric = CheckOutcomes()
    for outcome in (Outcome.OK, Outcome.OK, Outcome.FAIL, Outcome.TIMEOUT):
        metric._on_result(_result("a", 0.1, outcome))
    metric._on_result(_result("b", 0.1, Outcome.ERROR))
    counts = {s.labels: s.value for s in metric.snapshot(0.0).samples}
    assert counts == {("a", "ok"): 2, ("a", "fail"): 1, ("a", "timeout"): 1, ("b", "error"): 1}
