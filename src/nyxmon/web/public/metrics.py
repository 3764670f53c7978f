"""``GET /metrics``: Prometheus text format, per check and for the agent itself.

Per check: ``nyxmon_check_up`` (1 up or degraded, 0 otherwise), ``nyxmon_check_state`` (a
number, see :data:`STATE_CODES`), ``nyxmon_check_info`` (service, type, name as labels),
``nyxmon_check_duration_seconds{check, phase}`` (histogram; ``phase="total"`` unless the
scrape asks for ``/metrics?phases=all``, which adds HTTP's dns, connect, tls, first_byte) and
``nyxmon_check_results_total{check, outcome}``. The agent's own figures come from its metrics
runtime as they are: loop lag, dispatcher lag and queue depth, store batch latency, scheduler
start lag, outbox backlog (``nyxmon_outbox_rows{status}``); its all-checks totals are renamed
``nyxmon_agent_check_*`` so they do not collide with the per-check families.

A scrape runs in a worker thread (it waits for a dispatcher snapshot and a recorder
snapshot); the format itself is prometheus_client's. ``web.metrics_token`` makes it require
``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import dataclasses
import hmac
import time
from collections.abc import Iterator, Mapping
from typing import Literal

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.exposition import generate_latest
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)
from prometheus_client.metrics_core import Metric as Family
from prometheus_client.registry import Collector, CollectorRegistry

from nyxmon.domain.model import Check
from nyxmon.domain.status import CheckStatus, state_of
from nyxmon.metrics import HistogramSample, MetricSnapshot, Sample
from nyxmon.metrics.prometheus import families
from nyxmon.service_layer.records.catalog import CheckQuery
from nyxmon.web.context import WebContext
from nyxmon.web.deps import State, run_blocking
from nyxmon.web.problems import Problem
from nyxmon.web.public.check_metrics import DURATION_METRIC, RESULTS_METRIC

__all__ = ["STATE_CODES", "NyxmonCollector", "router"]

router = APIRouter(tags=["public"], include_in_schema=False)

#: ``nyxmon_check_state`` values.
STATE_CODES: Mapping[str, int] = {
    "up": 0,
    "degraded": 1,
    "down": 2,
    "flapping": 3,
    "maintenance": 4,
    "paused": 5,
    "pending": 6,
}
_RENAMES = {
    "nyxmon_check_results": "nyxmon_agent_check_results",
    "nyxmon_check_duration_seconds": "nyxmon_agent_check_duration_seconds",
    "nyxmon_check_duration_seconds_quantile": "nyxmon_agent_check_duration_seconds_quantile",
}
_PER_CHECK_METRICS = frozenset({DURATION_METRIC, RESULTS_METRIC})
_YIELD_EVERY = 500


class NyxmonCollector(Collector):
    """Everything ``/metrics`` shows, gathered at scrape time (blocking: a worker thread).

    ``phases`` None exposes only ``phase="total"`` duration histograms; ``"all"`` adds every
    phase (HTTP: dns, connect, tls, first_byte), four times the series for HTTP checks.
    """

    def __init__(self, context: WebContext, *, phases: str | None = None, timeout: float = 2.0):
        self._context = context
        self._phases = phases
        self._timeout = timeout

    def describe(self) -> list[Family]:
        return []

    def collect(self) -> Iterator[Family]:
        context = self._context
        checks = context.store.list_checks(CheckQuery()).items
        statuses = context.statuses_blocking(self._timeout)
        live = {check.id for check in checks}
        yield from _check_families(checks, statuses)
        yield _outbox_family(context.store.outbox_counts())
        snapshots = context.metric_snapshots(self._timeout)
        mine: dict[str, MetricSnapshot] = {}
        general = []
        for snap in snapshots:
            for name in _PER_CHECK_METRICS:
                if name in snap.metrics:
                    mine[name] = snap.metrics[name]
            rest = {k: v for k, v in snap.metrics.items() if k not in _PER_CHECK_METRICS}
            general.append(dataclasses.replace(snap, metrics=rest))
        if DURATION_METRIC in mine:
            yield _durations_family(mine[DURATION_METRIC], live, self._phases == "all")
        if RESULTS_METRIC in mine:
            yield _outcomes_family(mine[RESULTS_METRIC], live)
        for family in families(general):
            renamed = _RENAMES.get(family.name)
            if renamed is None:
                yield family
                continue
            out = Family(renamed, family.documentation, family.type)
            for sample in family.samples:
                labels = {k: v for k, v in sample.labels.items() if k != "recorder"}
                name = renamed + sample.name[len(family.name) :]
                out.add_sample(name, labels, sample.value, sample.timestamp, sample.exemplar)
            yield out


def _durations_family(snapshot: MetricSnapshot, live: set[str], every_phase: bool) -> Family:
    family = HistogramMetricFamily(
        "nyxmon_check_duration_seconds", snapshot.help, labels=["check", "phase"]
    )
    for n, sample in enumerate(snapshot.samples):
        if n % _YIELD_EVERY == 0:
            time.sleep(0)  # let the probe loop have the interpreter between chunks
        assert isinstance(sample, HistogramSample)
        check_id, phase = sample.labels
        if check_id not in live or (phase != "total" and not every_phase):
            continue
        buckets = [(_go(bound), count) for bound, count in sample.buckets]
        family.add_metric([check_id, phase], buckets, sample.sum)
    return family


def _outcomes_family(snapshot: MetricSnapshot, live: set[str]) -> Family:
    family = CounterMetricFamily("nyxmon_check_results", snapshot.help, labels=["check", "outcome"])
    for sample in snapshot.samples:
        assert isinstance(sample, Sample)
        if sample.labels[0] in live:
            family.add_metric(list(sample.labels), sample.value)
    return family


def _go(value: float) -> str:
    return "+Inf" if value == float("inf") else repr(float(value))


def _check_families(checks: tuple[Check, ...], statuses: Mapping[str, CheckStatus]) -> list[Family]:
    up = GaugeMetricFamily(
        "nyxmon_check_up", "1 when the check is up or degraded.", labels=["check"]
    )
    state = GaugeMetricFamily(
        "nyxmon_check_state",
        "The check's state: "
        + ", ".join(f"{code} {name}" for name, code in STATE_CODES.items())
        + ".",
        labels=["check"],
    )
    info = GaugeMetricFamily(
        "nyxmon_check_info",
        "Always 1; the check's service, type and name as labels.",
        labels=["check", "service", "type", "name"],
    )
    for n, check in enumerate(checks):
        if n % _YIELD_EVERY == 0:
            time.sleep(0)
        current = state_of(check, statuses.get(check.id))
        up.add_metric([check.id], 1.0 if current in ("up", "degraded") else 0.0)
        state.add_metric([check.id], float(STATE_CODES.get(current, STATE_CODES["pending"])))
        info.add_metric([check.id, check.service, check.type, check.name], 1.0)
    return [up, state, info]


def _outbox_family(counts: Mapping[str, int]) -> Family:
    family = GaugeMetricFamily(
        "nyxmon_outbox_rows", "Notification outbox rows by status.", labels=["status"]
    )
    for status in sorted({"pending", "delivered", "given_up", *counts}):
        family.add_metric([status], float(counts.get(status, 0)))
    return family


def render_metrics(context: WebContext, phases: str | None) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(NyxmonCollector(context, phases=phases))
    return generate_latest(registry)


@router.get("/metrics")
async def metrics(request: Request, state: State, phases: Literal["all"] | None = None) -> Response:
    token = state.settings.metrics_token
    if token is not None:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip(), token):
            raise Problem(
                401,
                "this /metrics needs Authorization: Bearer <web.metrics_token>",
                kind="unauthorized",
                headers={"WWW-Authenticate": "Bearer"},
            )
    body = await run_blocking(request, render_metrics, state.context, phases)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
