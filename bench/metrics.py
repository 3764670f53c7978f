"""Metric emission cost and end-to-end throughput: nyxmon.metrics vs its peers.

1. Cost per call on the production thread, N calls per round, rounds interleaved (A, B, C, D, A,
   ...) on the same thread: ``Recorder.register_event`` (a prebuilt ``Increment``; and building
   one per call), ``prometheus_client`` ``Counter.inc()``, the OpenTelemetry SDK's
   ``counter.add(1)`` and mvx-common 0.3.0's ``AsyncioMetricsRecorder.register_event``. Both
   recorders run their own processing thread meanwhile (as in production); each recorder round
   ends by waiting until its backlog is processed, outside the timed part, so no round pays for
   another's work. Reported: the production thread's CPU time per call (``thread_time``, what
   the call costs the caller) and the wall-clock time per call (which also absorbs the GIL
   turns the processing thread takes).
2. End to end: one thread registers N events, then asks for a snapshot; the clock stops when a
   snapshot reflects all N (nyxmon: the first one does; mvx: polled). Both queues hold N, so
   nothing is dropped (checked).

Targets (issue 4): register_event no slower than Counter.inc(); >= 1,000,000 events/s end to end,
20x mvx-common.

    .venv/bin/python bench/metrics.py [--calls 100000] [--rounds 5] [--e2e-events 300000]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Mapping
from typing import Any

from mvx.common.metrics import Metric as MvxMetric
from mvx.common.metrics import MetricEvent as MvxEvent
from mvx.common.metrics import MetricsRuntime as MvxRuntime
from mvx.common.metrics.asyncio_metrics_recorder import AsyncioMetricsRecorderQueueOverflowPolicy
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from prometheus_client import CollectorRegistry
from prometheus_client import Counter as PromCounter

from _common import emit, machine, table
from nyxmon.metrics import Counter, Histogram, Increment, MetricsRuntime, Observe, Recorder


class MvxTick(MvxEvent):
    __slots__ = ()

    @property
    def event_type(self) -> str:
        return "tick"


class MvxCounter(MvxMetric):
    """The simplest mvx metric: counts every event."""

    def __init__(self) -> None:
        self.value = 0

    @property
    def metric_name(self) -> str:
        return "ticks"

    def handle_event(self, event: MvxEvent) -> bool:
        self.value += 1
        return True

    def snapshot(self) -> Mapping[str, Any]:
        return {"value": self.value}


def timed(call: Callable[[], None], n: int) -> tuple[float, float]:
    """(thread CPU ns per call, wall ns per call) for ``n`` calls."""
    cpu0, wall0 = time.thread_time_ns(), time.perf_counter_ns()
    for _ in range(n):
        call()
    return (time.thread_time_ns() - cpu0) / n, (time.perf_counter_ns() - wall0) / n


def nyx_total(recorder: Recorder, metric: str = "ticks") -> float:
    return recorder.get_metric_snapshots(timeout=120).metric(metric).value()


def mvx_total(recorder: Any) -> int:
    return int(recorder.get_metric_snapshots()["ticks"]["value"])


def wait_mvx(recorder: Any, expected: int) -> None:
    deadline = time.monotonic() + 300
    while mvx_total(recorder) < expected:
        if time.monotonic() > deadline:
            raise AssertionError("mvx recorder did not catch up")
        time.sleep(0.001)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000, help="calls per contender round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--e2e-events", type=int, default=300_000)
    parser.add_argument("--e2e-rounds", type=int, default=3)
    args = parser.parse_args()
    calls, rounds = args.calls, args.rounds
    big = max(calls, args.e2e_events) + 1

    runtime = MetricsRuntime("bench", default_queue_max_size=big).start()
    recorder = runtime.create_recorder("bench")
    recorder.register_metric(Counter("ticks"))
    recorder.register_metric(Histogram("latency_seconds"))
    mvx_runtime = MvxRuntime(
        namespace="bench",
        default_recorder_queue_max_size=big,
        default_recorder_queue_overflow_policy=AsyncioMetricsRecorderQueueOverflowPolicy.DROP,
    )
    mvx_runtime.start()
    mvx = mvx_runtime.create_recorder("bench")
    mvx.register_metric(MvxCounter())
    prom = PromCounter("ticks", "ticks", registry=CollectorRegistry())
    otel = (
        MeterProvider(metric_readers=[InMemoryMetricReader()])
        .get_meter("bench")
        .create_counter("ticks")
    )

    tick, mvx_tick = Increment("ticks"), MvxTick()
    nyx_sent = mvx_sent = 0

    def settle_nyx() -> None:
        if nyx_total(recorder) != nyx_sent:
            raise AssertionError("nyxmon recorder lost events")

    def settle_mvx() -> None:
        wait_mvx(mvx, mvx_sent)

    contenders: dict[str, tuple[Callable[[], None], Callable[[], None] | None, bool]] = {
        "nyxmon register_event (prebuilt event)": (
            lambda: recorder.register_event(tick),
            settle_nyx,
            True,
        ),
        "nyxmon register_event(Increment(...))": (
            lambda: recorder.register_event(Increment("ticks")),
            settle_nyx,
            True,
        ),
        "prometheus_client Counter.inc()": (prom.inc, None, False),
        "OpenTelemetry SDK counter.add(1)": (lambda: otel.add(1), None, False),
        "mvx-common register_event": (lambda: mvx.register_event(mvx_tick), settle_mvx, False),
    }
    cpu: dict[str, list[float]] = {name: [] for name in contenders}
    wall: dict[str, list[float]] = {name: [] for name in contenders}
    for round_no in range(rounds + 1):  # round 0 warms up and is not counted
        for name, (call, settle, nyx) in contenders.items():
            c, w = timed(call, calls)
            if nyx:
                nyx_sent += calls
            elif settle is not None:
                mvx_sent += calls
            if settle is not None:
                settle()
            if round_no:
                cpu[name].append(c)
                wall[name].append(w)

    # -- end to end -------------------------------------------------------------------------
    n = args.e2e_events
    e2e: dict[str, list[float]] = {"nyxmon Counter": [], "nyxmon Histogram": [], "mvx-common": []}
    latency = Observe("latency_seconds", 0.0123)
    for _ in range(args.e2e_rounds):
        start = time.perf_counter()
        register = recorder.register_event
        for _ in range(n):
            register(tick)
        nyx_sent += n
        snap = recorder.get_metric_snapshots(timeout=120)
        e2e["nyxmon Counter"].append(n / (time.perf_counter() - start))
        if snap.metric("ticks").value() != nyx_sent or snap.dropped_total:
            raise AssertionError("nyxmon end-to-end run lost events")

        start = time.perf_counter()
        for _ in range(n):
            register(latency)
        snap = recorder.get_metric_snapshots(timeout=120)
        e2e["nyxmon Histogram"].append(n / (time.perf_counter() - start))
        if snap.dropped_total:
            raise AssertionError("nyxmon end-to-end run dropped events")

        start = time.perf_counter()
        mvx_register = mvx.register_event
        for _ in range(n):
            mvx_register(mvx_tick)
        mvx_sent += n
        wait_mvx(mvx, mvx_sent)
        e2e["mvx-common"].append(n / (time.perf_counter() - start))

    histogram_count = recorder.get_metric_snapshots().metric("latency_seconds").value()
    runtime.shutdown()
    mvx_runtime.shutdown()
    if histogram_count != n * args.e2e_rounds:
        raise AssertionError(f"histogram saw {histogram_count} of {n * args.e2e_rounds} events")

    med = {name: statistics.median(v) for name, v in cpu.items()}
    med_wall = {name: statistics.median(v) for name, v in wall.items()}
    prom_ns = med["prometheus_client Counter.inc()"]
    print(f"metric emission from one production thread ({machine()})")
    print(f"{calls:,} calls per round, {rounds} interleaved rounds, medians\n")
    rows = [
        [name, med[name], min(cpu[name]), med_wall[name], med[name] / prom_ns]
        for name in contenders
    ]
    print(table(["contender", "cpu ns/call", "best", "wall ns/call", "vs inc()"], rows))
    e2e_med = {name: statistics.median(v) for name, v in e2e.items()}
    print(f"\nend to end: {n:,} events from one thread until a snapshot shows them all")
    rows = [[name, v, 1e9 / v, v / e2e_med["mvx-common"]] for name, v in e2e_med.items()]
    print(table(["pipeline", "events/s", "ns/event", "vs mvx"], rows))
    nyx_ns = med["nyxmon register_event (prebuilt event)"]
    print(
        f"\nregister_event vs Counter.inc(): {prom_ns / nyx_ns:.2f}x (target >= 1.0); "
        f"end to end {e2e_med['nyxmon Counter']:,.0f}/s (target >= 1,000,000), "
        f"{e2e_med['nyxmon Counter'] / e2e_med['mvx-common']:.1f}x mvx-common (target >= 20)"
    )
    emit(
        {
            "calls": calls * rounds,
            "register_event_ns": round(nyx_ns, 1),
            "register_event_wall_ns": round(med_wall["nyxmon register_event (prebuilt event)"], 1),
            "register_event_new_increment_ns": round(
                med["nyxmon register_event(Increment(...))"], 1
            ),
            "prometheus_inc_ns": round(prom_ns, 1),
            "otel_add_ns": round(med["OpenTelemetry SDK counter.add(1)"], 1),
            "mvx_register_event_ns": round(med["mvx-common register_event"], 1),
            "mvx_register_event_wall_ns": round(med_wall["mvx-common register_event"], 1),
            "e2e_events": n,
            "e2e_events_per_s": round(e2e_med["nyxmon Counter"]),
            "e2e_histogram_events_per_s": round(e2e_med["nyxmon Histogram"]),
            "mvx_e2e_events_per_s": round(e2e_med["mvx-common"]),
            "e2e_vs_mvx": round(e2e_med["nyxmon Counter"] / e2e_med["mvx-common"], 1),
            "register_event_vs_prometheus_inc": round(prom_ns / nyx_ns, 2),
        }
    )


if __name__ == "__main__":
    main()
