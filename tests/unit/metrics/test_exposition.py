"""Prometheus text through prometheus_client's own parser, and the JSON snapshot."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample as PromSample

from nyxmon.metrics import (
    Counter,
    Gauge,
    Histogram,
    Increment,
    MetricsCollector,
    MetricsRuntime,
    Observe,
    Rate,
    Recorder,
    SetGauge,
    json_snapshot,
    prometheus_name,
)
from nyxmon.runtime import ShutdownStatus

from .conftest import Boom, Exploding, loop_blocked

pytestmark = pytest.mark.anyio


def scrape(*sources: MetricsRuntime | Recorder, timeout: float = 2.0) -> dict[str, Any]:
    registry = CollectorRegistry()
    registry.register(MetricsCollector(*sources, timeout=timeout))
    text = generate_latest(registry).decode()
    return {family.name: family for family in text_string_to_metric_families(text)}


def samples(family: Any, name: str, **labels: str) -> list[PromSample]:
    return [
        s
        for s in family.samples
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    ]


def value(family: Any, name: str, **labels: str) -> float:
    (sample,) = samples(family, name, **labels)
    return float(sample.value)


@pytest.fixture
def populated() -> Any:
    runtime = MetricsRuntime("shop.api").start()
    web = runtime.create_recorder("web", queue_max_size=5, overflow_policy="drop_newest")
    web.register_metric(Counter("requests_total", "HTTP requests served", label_names=("method",)))
    web.register_metric(Histogram("latency_seconds", "request latency", buckets=(0.1, 1.0)))
    web.register_metric(Gauge("in_flight", "requests in progress"))
    web.register_metric(
        Rate("requests_per_second", source="requests_total", label_names=("method",))
    )
    web.register_metric(Exploding())
    for method in ("GET", "GET", "POST"):
        web.register_event(Increment("requests_total", 1, (method,)))
    web.get_metric_snapshots()  # the queue holds 5: let it empty between chunks
    for latency in (0.05, 0.5, 3.0):
        web.register_event(Observe("latency_seconds", latency))
    web.get_metric_snapshots()
    web.register_event(SetGauge("in_flight", 4))
    web.register_event(Boom(1))
    assert web.get_metric_snapshots().dropped_total == 0
    with loop_blocked(runtime.runtime):
        for _ in range(8):  # 5 fit, 3 are dropped
            web.register_event(Increment("requests_total", 1, ("PUT",)))
    yield runtime
    assert runtime.shutdown() is ShutdownStatus.CLEAN


def test_exposition_parses_with_prometheus_client_and_has_every_kind(populated: Any) -> None:
    families = scrape(populated)
    requests = families["shop_api_requests"]
    assert (requests.type, requests.documentation) == ("counter", "HTTP requests served")
    assert value(requests, "shop_api_requests_total", recorder="web", method="GET") == 2
    assert value(requests, "shop_api_requests_total", recorder="web", method="PUT") == 5
    latency = families["shop_api_latency_seconds"]
    assert latency.type == "histogram"
    buckets = {s.labels["le"]: s.value for s in samples(latency, "shop_api_latency_seconds_bucket")}
    assert buckets == {"0.1": 1, "1.0": 2, "+Inf": 3}
    assert value(latency, "shop_api_latency_seconds_count") == 3
    assert value(latency, "shop_api_latency_seconds_sum") == pytest.approx(3.55)
    quantiles = families["shop_api_latency_seconds_quantile"]
    assert quantiles.type == "summary"
    assert value(quantiles, "shop_api_latency_seconds_quantile_count") == 3
    assert value(quantiles, "shop_api_latency_seconds_quantile", quantile="0.5") == pytest.approx(
        0.5, rel=0.01
    )
    assert families["shop_api_in_flight"].type == "gauge"
    assert value(families["shop_api_in_flight"], "shop_api_in_flight") == 4
    assert families["shop_api_requests_per_second"].type == "gauge"


def test_drops_and_handler_errors_are_exposed_as_series(populated: Any) -> None:
    families = scrape(populated)
    dropped = families["shop_api_recorder_events_dropped"]
    assert value(dropped, "shop_api_recorder_events_dropped_total", reason="drop_newest") == 3
    assert value(dropped, "shop_api_recorder_events_dropped_total", reason="stopped") == 0
    errors = families["shop_api_metric_handler_errors"]
    assert value(errors, "shop_api_metric_handler_errors_total", metric="exploding") == 1
    assert value(errors, "shop_api_metric_handler_errors_total", metric="requests_total") == 0
    processed = families["shop_api_recorder_events_processed"]
    assert value(processed, "shop_api_recorder_events_processed_total", recorder="web") == 13
    stale = families["shop_api_recorder_snapshot_stale"]
    assert value(stale, "shop_api_recorder_snapshot_stale") == 0


def test_a_scrape_while_the_loop_is_blocked_serves_the_last_values_marked_stale(
    populated: Any,
) -> None:
    with loop_blocked(populated.runtime):
        families = scrape(populated, timeout=0.05)
    assert (
        value(families["shop_api_recorder_snapshot_stale"], "shop_api_recorder_snapshot_stale") == 1
    )
    requests = families["shop_api_requests"]
    assert value(requests, "shop_api_requests_total", method="GET") == 2


def test_recorders_of_several_runtimes_and_direct_recorders_can_be_sources(
    metrics_runtime: MetricsRuntime,
) -> None:
    first = metrics_runtime.create_recorder("a")
    second = metrics_runtime.create_recorder("b")
    for recorder in (first, second):
        recorder.register_metric(Counter("jobs_total"))
        recorder.register_event(Increment("jobs_total"))
    families = scrape(second, metrics_runtime)
    jobs = families["test_jobs"]
    assert sorted(s.labels["recorder"] for s in jobs.samples) == ["a", "b", "b"]


def test_one_name_with_two_kinds_keeps_the_first_and_warns(
    metrics_runtime: MetricsRuntime, caplog: pytest.LogCaptureFixture
) -> None:
    metrics_runtime.create_recorder("a").register_metric(Counter("clash_total"))
    metrics_runtime.create_recorder("b").register_metric(Gauge("clash"))
    with caplog.at_level(logging.WARNING):
        families = scrape(metrics_runtime)
    assert families["test_clash"].type == "counter"
    assert len(families["test_clash"].samples) == 1
    assert any("exposed as counter and as gauge" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("namespace", "metric", "expected"),
    [
        pytest.param("example.metrics", "x", "example_metrics_x", id="dots"),
        pytest.param("9lives", "x", "_9lives_x", id="digit"),
        pytest.param("---", "x", "nyxmon_x", id="nothing-left"),
        pytest.param("a:b", "x", "a:b_x", id="colon"),
    ],
)
def test_namespaces_become_valid_prometheus_prefixes(
    namespace: str, metric: str, expected: str
) -> None:
    assert prometheus_name(namespace, metric) == expected


def reject_constant(name: str) -> None:
    raise AssertionError(f"bare {name} in JSON")


def test_json_snapshot_is_strict_json_with_every_recorder(populated: Any) -> None:
    populated.create_recorder("idle").register_metric(Histogram("empty_seconds"))
    document = json.loads(json_snapshot(populated), parse_constant=reject_constant)
    by_id = {r["recorder_id"]: r for r in document["recorders"]}
    web = by_id["web"]
    assert web["dropped"]["drop_newest"] == 3
    assert web["dropped_total"] == 3
    assert web["handler_errors"] == 1
    assert web["metrics"]["requests_total"]["samples"][0] == {"labels": ["GET"], "value": 2.0}
    histogram = web["metrics"]["latency_seconds"]["samples"][0]
    assert histogram["buckets"][-1] == ["+Inf", 3]
    assert set(histogram["quantiles"]) == {"0.5", "0.9", "0.99"}
    empty = by_id["idle"]["metrics"]["empty_seconds"]["samples"][0]
    assert (empty["count"], empty["min"]) == (0, "NaN")
