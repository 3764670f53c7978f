"""Instruments: bindings to your events, labels and their limit, rates, timers, bad definitions."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any, NamedTuple

import pytest

from nyxmon.metrics import (
    OTHER,
    Counter,
    Gauge,
    Histogram,
    HistogramSample,
    Increment,
    MetricDefinitionError,
    MetricsRuntime,
    Observe,
    Rate,
    SetGauge,
    Timer,
)

pytestmark = pytest.mark.anyio


class Request(NamedTuple):
    method: str
    status: int
    elapsed: float


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def clocked_runtime(clock: FakeClock) -> Iterator[MetricsRuntime]:
    runtime = MetricsRuntime("clocked", clock=clock).start()
    yield runtime
    runtime.shutdown()


def test_instruments_read_value_and_labels_from_your_own_event_type(
    metrics_runtime: MetricsRuntime,
) -> None:
    recorder = metrics_runtime.create_recorder("http")
    recorder.register_metric(Counter("requests_total", on=Request, labels=("method", "status")))
    recorder.register_metric(
        Histogram("request_seconds", on=Request, value="elapsed", labels=("method",))
    )
    recorder.register_metric(Gauge("last_status", on=Request, value=lambda r: r.status))
    recorder.register_metric(
        Counter(
            "errors_total",
            on=Request,
            value=lambda r: 1 if r.status >= 500 else 0,
            labels=lambda r: (r.method.lower(),),
            label_names=("verb",),
        )
    )
    for request in [Request("GET", 200, 0.1), Request("GET", 200, 0.3), Request("POST", 503, 2.0)]:
        recorder.register_event(request)
    snapshot = recorder.get_metric_snapshots()
    requests = snapshot.metric("requests_total")
    assert requests.label_names == ("method", "status")
    assert requests.value(("GET", "200")) == 2  # label values become strings
    assert requests.value(("POST", "503")) == 1
    seconds = snapshot.metric("request_seconds").sample(("GET",))
    assert isinstance(seconds, HistogramSample)
    assert (seconds.count, seconds.sum) == (2, pytest.approx(0.4))
    assert snapshot.metric("last_status").value() == 503
    assert snapshot.metric("errors_total").value(("post",)) == 1
    assert snapshot.metric("errors_total").value(("get",)) == 0


def test_label_values_equal_as_strings_share_one_series(metrics_runtime: MetricsRuntime) -> None:
    recorder = metrics_runtime.create_recorder("labels")
    recorder.register_metric(Counter("codes_total", label_names=("code",)))
    recorder.register_event(Increment("codes_total", 1, (200,)))  # type: ignore[arg-type]
    recorder.register_event(Increment("codes_total", 1, ("200",)))
    metric = recorder.get_metric_snapshots().metric("codes_total")
    assert [(s.labels, s.value) for s in metric.samples] == [(("200",), 2)]


def test_label_sets_past_the_limit_fold_into_other_and_are_counted(
    metrics_runtime: MetricsRuntime,
) -> None:
    recorder = metrics_runtime.create_recorder("cardinality")
    recorder.register_metric(Counter("hits_total", label_names=("path",), max_series=3))
    for i in range(10):
        recorder.register_event(Increment("hits_total", 1, (f"/p{i}",)))
    recorder.register_event(Increment("hits_total", 1, ("/p9",)))  # still folded, counted again
    recorder.register_event(Increment("hits_total", 1, ("/p0",)))  # a known series still counts
    metric = recorder.get_metric_snapshots().metric("hits_total")
    values = {s.labels: s.value for s in metric.samples}
    assert values == {("/p0",): 2, ("/p1",): 1, ("/p2",): 1, (OTHER,): 8}
    assert metric.folded == 8


def test_gauges_set_or_add(metrics_runtime: MetricsRuntime) -> None:
    recorder = metrics_runtime.create_recorder("gauges")
    recorder.register_metric(Gauge("temperature"))
    recorder.register_metric(Gauge("in_flight", mode="add"))
    for value in (20.5, 21.0, 19.5):
        recorder.register_event(SetGauge("temperature", value))
    for delta in (1, 1, 1, -1):
        recorder.register_event(SetGauge("in_flight", delta))
    snapshot = recorder.get_metric_snapshots()
    assert snapshot.metric("temperature").value() == 19.5
    assert snapshot.metric("in_flight").value() == 2


def test_rate_reports_a_steady_rate_exactly_and_decays_when_events_stop(
    clocked_runtime: MetricsRuntime, clock: FakeClock
) -> None:
    recorder = clocked_runtime.create_recorder("rates")
    recorder.register_metric(Counter("requests_total"))
    recorder.register_metric(Rate("requests_per_second", source="requests_total", tau=60.0))
    for second in (10, 20, 30):
        for _ in range(50):
            recorder.register_event(Increment("requests_total", 2))  # 100 per 10 s
        clock.now = second
        rate = recorder.get_metric_snapshots().metric("requests_per_second").value()
        assert rate == pytest.approx(10.0)
    clock.now = 40  # ten silent seconds
    quiet = recorder.get_metric_snapshots().metric("requests_per_second").value()
    keep = math.exp(-10 / 60)
    weight = 1 - keep**3  # three intervals blended in so far
    expected = keep * 10 * weight / (keep * weight + (1 - keep))
    assert quiet == pytest.approx(expected)
    assert 0 < quiet < 10


def test_timer_emits_the_duration_as_a_context_manager_and_a_decorator(clock: FakeClock) -> None:
    events: list[Any] = []
    timer = Timer(events.append, "work_seconds", ("batch",), clock=clock)
    with timer:
        clock.now += 1.5

    def fails() -> None:
        with timer:
            clock.now += 0.5
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        fails()

    @timer
    def work(n: int) -> int:
        clock.now += n
        return n * 2

    assert work(3) == 6
    assert events == [
        Observe("work_seconds", 1.5, ("batch",)),
        Observe("work_seconds", 0.5, ("batch",)),
        Observe("work_seconds", 3.0, ("batch",)),
    ]


async def test_timer_decorates_coroutine_functions_too(clock: FakeClock) -> None:
    events: list[Any] = []

    @Timer(events.append, "fetch_seconds", clock=clock)
    async def fetch() -> str:
        clock.now += 0.25
        return "ok"

    assert await fetch() == "ok"
    assert events == [Observe("fetch_seconds", 0.25, ())]


def test_recorder_timer_feeds_a_histogram(metrics_runtime: MetricsRuntime) -> None:
    recorder = metrics_runtime.create_recorder("timed")
    recorder.register_metric(Histogram("step_seconds"))
    with recorder.timer("step_seconds"):
        pass
    sample = recorder.get_metric_snapshots().metric("step_seconds").sample()
    assert isinstance(sample, HistogramSample)
    assert sample.count == 1
    assert sample.sum >= 0


@pytest.mark.parametrize(
    ("make", "message"),
    [
        pytest.param(lambda: Counter("2fast"), "metric name '2fast' is invalid", id="name"),
        pytest.param(lambda: Counter("a b"), "metric name 'a b' is invalid", id="space"),
        pytest.param(
            lambda: Counter("c", label_names=("recorder",)), "'recorder' is reserved", id="reserved"
        ),
        pytest.param(lambda: Histogram("h", label_names=("le",)), "'le' is reserved", id="le"),
        pytest.param(lambda: Counter("c", label_names=("__x",)), "'__x' is invalid", id="dunder"),
        pytest.param(lambda: Counter("c", label_names=("a", "a")), "repeat", id="repeat"),
        pytest.param(lambda: Histogram("h", buckets=(1, 1)), "increase strictly", id="buckets"),
        pytest.param(lambda: Histogram("h", buckets=()), "finite numbers", id="no-buckets"),
        pytest.param(lambda: Histogram("h", quantiles=(1.5,)), "lie in", id="quantile"),
        pytest.param(lambda: Histogram("h", relative_error=0), "relative_error", id="alpha"),
        pytest.param(lambda: Gauge("g", on=Request), "value= is needed", id="no-value"),
        pytest.param(lambda: Gauge("g", mode="max"), "mode must be", id="mode"),  # type: ignore[arg-type]
        pytest.param(lambda: Rate("r", tau=0), "tau must be > 0", id="tau"),
        pytest.param(lambda: Counter("c", on=Request, source="x"), "source= names", id="source"),
        pytest.param(lambda: Counter("c", value="amount"), "carry their value", id="generic"),
        pytest.param(lambda: Counter("c", on="Request"), "must be an event class", id="on"),  # type: ignore[arg-type]
        pytest.param(
            lambda: Counter("c", on=Request, labels=lambda r: (r.method,)),
            "needs label_names=",
            id="labels-fn",
        ),
        pytest.param(
            lambda: Counter("c", on=Request, label_names=("method",)),
            "without labels=",
            id="names-only",
        ),
        pytest.param(lambda: Counter("c", max_series=0), "max_series must be >= 1", id="limit"),
    ],
)
def test_bad_definitions_are_refused_naming_the_metric(make: Any, message: str) -> None:
    with pytest.raises(MetricDefinitionError, match=message):
        make()
