"""A failing metric is isolated: counted, logged once, and nobody else notices."""

from __future__ import annotations

import logging
import math
import re
from typing import NamedTuple

import pytest

from nyxmon.metrics import (
    Counter,
    Gauge,
    Histogram,
    Increment,
    MetricsRuntime,
    Observe,
    SetGauge,
)

from .conftest import Boom, Exploding


def error_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "nyxmon.metrics.recorder"]


@pytest.mark.parametrize("shares_its_event", [True, False], ids=["shared-event", "own-event"])
def test_a_failing_metric_does_not_stop_the_others_and_is_logged_once(
    metrics_runtime: MetricsRuntime, caplog: pytest.LogCaptureFixture, shares_its_event: bool
) -> None:
    recorder = metrics_runtime.create_recorder("failing")
    recorder.register_metric(Exploding())
    if shares_its_event:
        recorder.register_metric(Counter("booms_total", on=Boom))
    recorder.register_metric(Counter("ok_total"))
    with caplog.at_level(logging.ERROR):
        for i in range(100):
            recorder.register_event(Boom(i))
            recorder.register_event(Increment("ok_total"))
        snapshot = recorder.get_metric_snapshots()
    exploding = snapshot.metric("exploding")
    assert exploding.errors == 100
    assert exploding.last_error == "RuntimeError: boom 99"
    assert snapshot.handler_errors == 100
    assert snapshot.metric("ok_total").value() == 100
    if shares_its_event:
        assert snapshot.metric("booms_total").value() == 100
    assert snapshot.processed == 200
    records = error_records(caplog)
    assert len(records) == 1
    assert "metric 'exploding' failed" in records[0].getMessage()
    assert recorder.state == "running"


def test_a_metric_whose_snapshot_fails_is_left_out_and_counted(
    metrics_runtime: MetricsRuntime, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = metrics_runtime.create_recorder("bad-snapshot")
    broken = recorder.register_metric(Exploding("broken", in_snapshot=True))
    recorder.register_metric(Counter("ok_total"))
    recorder.register_event(Increment("ok_total"))
    with caplog.at_level(logging.ERROR):
        snapshot = recorder.get_metric_snapshots()
    assert set(snapshot.metrics) == {"ok_total"}
    assert broken.errors == 1
    assert len(error_records(caplog)) == 1


class Reading(NamedTuple):
    sensor: str
    value: object


@pytest.mark.parametrize(
    ("metric", "event", "message"),
    [
        pytest.param(Counter("c_total"), Increment("c_total", -1), "cannot decrease", id="neg"),
        pytest.param(
            Counter("c_total", label_names=("a",)),
            Increment("c_total", 1, ("x", "y")),
            r"takes labels \('a',\); got \('x', 'y'\)",
            id="arity",
        ),
        pytest.param(
            Counter("c_total"), Increment("c_total", 1, ("x",)), "takes labels ()", id="unlabelled"
        ),
        pytest.param(
            Counter("c_total", label_names=("a",)),
            Increment("c_total", 1, ["x"]),  # type: ignore[arg-type]
            "unhashable",
            id="list-labels",
        ),
        pytest.param(Histogram("h"), Observe("h", math.nan), "finite values", id="nan"),
        pytest.param(Histogram("h"), Observe("h", math.inf), "finite values", id="inf"),
        pytest.param(Gauge("g"), SetGauge("g", "hot"), "can only concatenate str", id="str"),  # type: ignore[arg-type]
        pytest.param(
            Gauge("g", on=Reading, value="value", labels=("sensor",)),
            Reading("s1", None),
            "unsupported operand",
            id="user-type-none",
        ),
    ],
)
def test_bad_values_count_as_errors_of_their_metric_only(
    metrics_runtime: MetricsRuntime,
    metric: Counter | Gauge | Histogram,
    event: object,
    message: str,
) -> None:
    recorder = metrics_runtime.create_recorder("bad-values")
    recorder.register_metric(metric)
    recorder.register_metric(Counter("fine_total"))
    recorder.register_event(event)
    recorder.register_event(Increment("fine_total"))
    snapshot = recorder.get_metric_snapshots()
    failed = snapshot.metric(metric.name)
    assert failed.errors == 1
    assert failed.last_error is not None
    assert re.search(message, failed.last_error), failed.last_error
    assert snapshot.metric("fine_total").value() == 1
