"""Dispatcher throughput and lag.

1. Throughput: one trivial session per key (``--keys`` sessions), ``--events`` events posted
   round-robin from one producer thread; events/s from the first post until the last event has
   been dispatched (target: >= 300,000/s on this 2-core machine).
2. Lag at a steady rate: a producer posts ``--rate`` events/s (20,000 by default) in 1 ms ticks
   for ``--seconds``; the dispatcher's own lag figures (dequeue time minus post time) give p50/p99
   (target: p99 < 2 ms).

    .venv/bin/python bench/dispatcher.py [--events N] [--keys N] [--rate N] [--seconds S]
"""

from __future__ import annotations

import argparse
import threading
import time

from _common import emit, machine, table
from nyxmon.runtime import Dispatcher, Session, SessionEvent


class Counter(Session):
    """The trivial session: counts its events, never finishes."""

    def __init__(self, key: int) -> None:
        super().__init__(key)
        self.count = 0

    def on_start(self) -> None:
        self.state = "counting"

    def on_event(self, event: SessionEvent) -> None:
        self.count += 1


def throughput(events: int, keys: int, producers: int) -> tuple[float, float]:
    dispatcher = Dispatcher("bench").start()
    sessions = [Counter(k) for k in range(keys)]
    for session in sessions:
        dispatcher.register(session)
    dispatcher.submit(lambda: None).wait(10)
    per_producer = events // producers
    go = threading.Event()

    def produce(offset: int) -> None:
        post = dispatcher.post
        go.wait()
        for i in range(offset, offset + per_producer):
            post(SessionEvent(i % keys, "tick", i))

    threads = [threading.Thread(target=produce, args=(p * per_producer,)) for p in range(producers)]
    for thread in threads:
        thread.start()
    start = time.perf_counter()
    go.set()
    for thread in threads:
        thread.join()
    dispatcher.submit(lambda: None).wait(60)  # FIFO: every event before it is dispatched
    elapsed = time.perf_counter() - start
    total = sum(s.count for s in sessions)
    if total != per_producer * producers:
        raise AssertionError(f"lost events: {total} of {per_producer * producers}")
    stats = dispatcher.statistics()
    dispatcher.stop()
    return total / elapsed, stats.lag.p99 * 1000


def steady_lag(rate: int, seconds: float, keys: int) -> dict[str, float]:
    dispatcher = Dispatcher("bench-lag", lag_window=rate * int(seconds + 1)).start()
    for k in range(keys):
        dispatcher.register(Counter(k))
    dispatcher.submit(lambda: None).wait(10)
    post = dispatcher.post
    start = time.perf_counter()
    sent = 0
    i = 0
    while (now := time.perf_counter()) - start < seconds:
        due = int((now - start) * rate)
        while sent < due:
            post(SessionEvent(i % keys, "tick", i))
            sent += 1
            i += 1
        time.sleep(0.001)
    dispatcher.submit(lambda: None).wait(10)
    elapsed = time.perf_counter() - start
    stats = dispatcher.statistics()
    dispatcher.stop()
    return {
        "achieved_rate": sent / elapsed,
        "lag_p50_ms": stats.lag.p50 * 1000,
        "lag_p99_ms": stats.lag.p99 * 1000,
        "lag_max_ms": stats.lag.max * 1000,
        "batches": float(stats.batches),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--keys", type=int, default=1000)
    parser.add_argument("--rate", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()

    rows = []
    one_rate, one_p99 = throughput(args.events, args.keys, producers=1)
    rows.append(
        ["throughput, 1 producer", f"{one_rate:,.0f} events/s", f"lag p99 {one_p99:.1f} ms"]
    )
    four_rate, four_p99 = throughput(args.events, args.keys, producers=4)
    rows.append(
        ["throughput, 4 producers", f"{four_rate:,.0f} events/s", f"lag p99 {four_p99:.1f} ms"]
    )
    steady = steady_lag(args.rate, args.seconds, args.keys)
    rows.append(
        [
            f"steady {args.rate:,}/s for {args.seconds:g} s",
            f"{steady['achieved_rate']:,.0f} events/s",
            f"lag p50 {steady['lag_p50_ms']:.3f} ms, p99 {steady['lag_p99_ms']:.3f} ms, "
            f"max {steady['lag_max_ms']:.2f} ms",
        ]
    )
    print(f"Dispatcher, {args.keys} trivial sessions ({machine()})")
    print(table(["scenario", "rate", "lag"], rows))
    print(
        f"\ntargets: >= 300,000 events/s (got {one_rate:,.0f}); "
        f"lag p99 at {args.rate:,}/s < 2 ms (got {steady['lag_p99_ms']:.3f} ms)"
    )
    emit(
        {
            "events": args.events,
            "keys": args.keys,
            "events_per_s": round(one_rate),
            "events_per_s_4_producers": round(four_rate),
            "steady_rate": args.rate,
            "steady_achieved_rate": round(steady["achieved_rate"]),
            "lag_p50_ms_at_20k": round(steady["lag_p50_ms"], 4),
            "lag_p99_ms_at_20k": round(steady["lag_p99_ms"], 4),
            "lag_max_ms_at_20k": round(steady["lag_max_ms"], 3),
        }
    )


if __name__ == "__main__":
    main()
