"""Benchmark: steady ingest into the SQLite store while the cleaner and rollups chew a backlog.

Run: ``.venv/bin/python bench/store_cleaner.py`` (about 70 s: ~30 s to pre-fill, 30 s run).
Options for quicker looks: ``--seconds 10 --backlog 300000``.

Set-up: a temporary database with 1,000 checks and a pre-filled backlog of 3 million results
older than raw retention, never rolled up. Then, for 30 s and like the agent does:
  * the writer thread ingests 1,000 results/s as batches of 100 through ``write_batch``;
  * a maintenance thread runs ``rollup_step`` and ``cleaner_step`` back to back while either
    says more work remains, else sleeps 1 s (the agent's timer);
  * a reader thread asks for the latest result of every check twice a second (the dashboard).
Reports the ingest rate, write-batch latency, cleaner and rollup throughput, the longest writer
stall and whether the cleaner keeps up; the last line is one JSON object of the figures.

Reading the figures: the cleaner deletes raw rows only once their hour is rolled up, so on a
never-rolled backlog it starts after the rollup has passed the first hours; ``*_per_busy_s`` is
throughput while the step ran, ``cleaner_deleted_per_s`` over the wall time from its first to
its last deletion (rollup steps interleaved). ``keeps_up`` compares the latter with ingest.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sqlite3
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from nyxmon.domain.history.figures import DAY
from nyxmon.domain.model import Check, CheckSource, Outcome, Result
from nyxmon.service_layer.records.batches import WriteBatch
from nyxmon.service_layer.records.upkeep import Retention
from nyxmon.store.sqlite import SqliteStore

CHECKS = 1_000
RETENTION = Retention(raw_days=7, hourly_days=90, daily_days=730)
TIMINGS = {"dns": 0.0003, "connect": 0.0012, "tls": 0.0101, "first_byte": 0.031, "total": 0.0452}
DETAILS = {"status": 200, "size": 5120}


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def prepare(path: Path, backlog: int, now: float) -> None:
    """Create the checks, then bulk-insert the old backlog with plain SQL (fast, untimed)."""
    with SqliteStore(path) as store, store.transaction() as tx:
        for i in range(CHECKS):
            tx.checks.upsert(
                Check(
                    id=f"svc{i // 20}.check{i}",
                    service=f"svc{i // 20}",
                    name=f"check{i}",
                    type="http",
                    interval=1.0,
                    timeout=5.0,
                    params={"url": f"https://svc{i // 20}.example/health/{i}"},
                    source=CheckSource.API,
                )
            )
        tx.commit()
    # Two days of history ending a day past the raw horizon, written in time order.
    start = now - (RETENTION.raw_days + 3) * DAY
    step = (2 * DAY) / (backlog / CHECKS)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("BEGIN")
    conn.execute(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1)"
        " INSERT INTO results (check_pk, started_ms, lag_ms, duration_us, outcome, degraded,"
        " message, timings, details)"
        " SELECT (i % ?) + 1, CAST((? + (i / ?) * ? + 0.01) * 1000 AS INTEGER), 10,"
        " abs(random()) % 100000,"
        " CASE WHEN abs(random()) % 50 = 0 THEN 1 ELSE 0 END, 0, '', ?, ? FROM n",
        (
            backlog,
            CHECKS,
            start,
            CHECKS,
            step,
            json.dumps(TIMINGS, sort_keys=True, separators=(",", ":")),
            json.dumps(DETAILS, sort_keys=True, separators=(",", ":")),
        ),
    )
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


@dataclass
class Figures:
    batch_latencies: list[float] = field(default_factory=list)
    written: int = 0
    read_latencies: list[float] = field(default_factory=list)
    deleted: int = 0
    cleaner_busy: float = 0.0
    first_delete: float | None = None
    last_delete: float | None = None
    rolled_rows: int = 0
    rollup_busy: float = 0.0
    rollup_steps: int = 0
    cleaner_steps: int = 0
    backlog_cleared_at: float | None = None
    errors: list[BaseException] = field(default_factory=list)


def ingest(store: SqliteStore, figures: Figures, stop: threading.Event, rate: int) -> None:
    batch_size = 100
    ids = [f"svc{i // 20}.check{i}" for i in range(CHECKS)]
    interval = batch_size / rate
    next_at = time.monotonic()
    n = 0
    try:
        while not stop.is_set():
            now = time.time()
            batch = [
                Result(
                    check_id=ids[(n + k) % CHECKS],
                    scheduled_at=now,
                    started_at=now,
                    duration=0.02 + (n + k) % 97 / 1000,
                    outcome=Outcome.OK,
                    timings=TIMINGS,
                    details=DETAILS,
                )
                for k in range(batch_size)
            ]
            n += batch_size
            t0 = time.perf_counter()
            store.write_batch(WriteBatch(batch))
            figures.batch_latencies.append(time.perf_counter() - t0)
            figures.written += batch_size
            next_at += interval
            delay = next_at - time.monotonic()
            if delay > 0:
                stop.wait(delay)
    except BaseException as exc:
        figures.errors.append(exc)


def maintain(store: SqliteStore, figures: Figures, stop: threading.Event) -> None:
    try:
        while not stop.is_set():
            t0 = time.perf_counter()
            rollup = store.rollup_step(time.time())
            t1 = time.perf_counter()
            clean = store.cleaner_step(time.time(), RETENTION)
            t2 = time.perf_counter()
            figures.rollup_busy += t1 - t0
            figures.cleaner_busy += t2 - t1
            figures.rollup_steps += 1
            figures.cleaner_steps += 1
            figures.rolled_rows += rollup.rows_read
            if clean.raw_deleted:
                figures.deleted += clean.raw_deleted
                figures.first_delete = figures.first_delete or t1
                figures.last_delete = t2
            if not rollup.more and not clean.more:
                if figures.backlog_cleared_at is None and figures.deleted:
                    figures.backlog_cleared_at = t2
                stop.wait(1.0)
    except BaseException as exc:
        figures.errors.append(exc)


def read_dashboard(store: SqliteStore, figures: Figures, stop: threading.Event) -> None:
    try:
        while not stop.is_set():
            t0 = time.perf_counter()
            latest = store.latest_results()
            figures.read_latencies.append(time.perf_counter() - t0)
            assert len(latest) == CHECKS
            stop.wait(0.5)
    except BaseException as exc:
        figures.errors.append(exc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--backlog", type=int, default=3_000_000)
    parser.add_argument("--rate", type=int, default=1_000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="nyxmon-bench-") as tmp:
        path = Path(tmp) / "bench.db"
        now = time.time()
        t = time.perf_counter()
        prepare(path, args.backlog, now)
        print(f"pre-filled {args.backlog:,} old results in {time.perf_counter() - t:.1f} s")
        store = SqliteStore(path)
        size_before = store.db_info().size_bytes
        figures = Figures()
        stop = threading.Event()
        threads = [
            threading.Thread(target=ingest, args=(store, figures, stop, args.rate), name="writer"),
            threading.Thread(target=maintain, args=(store, figures, stop), name="cleaner"),
            threading.Thread(target=read_dashboard, args=(store, figures, stop), name="web"),
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        stop.wait(args.seconds)
        stop.set()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        if figures.errors:
            raise figures.errors[0]
        info = store.db_info()
        horizon = time.time() - RETENTION.raw_days * DAY
        left = store.count_results(until=horizon)
        store.close()
        wal = os.stat(f"{path}-wal").st_size if os.path.exists(f"{path}-wal") else 0

    lat_ms = [x * 1000 for x in figures.batch_latencies]
    ingest_rate = figures.written / elapsed
    span = (
        (figures.last_delete - figures.first_delete)
        if figures.first_delete and figures.last_delete
        else 0.0
    )
    deleted_rate = figures.deleted / span if span > 0 else 0.0
    result = {
        "seconds": round(elapsed, 1),
        "backlog_rows": args.backlog,
        "ingest_per_s": round(ingest_rate, 1),
        "batch_p50_ms": round(_percentile(lat_ms, 0.50), 2),
        "batch_p99_ms": round(_percentile(lat_ms, 0.99), 2),
        "max_writer_stall_ms": round(max(lat_ms, default=math.nan), 2),
        "cleaner_deleted_rows": figures.deleted,
        "cleaner_deleted_per_s": round(deleted_rate, 1),
        "cleaner_deleted_per_busy_s": round(figures.deleted / figures.cleaner_busy, 1)
        if figures.cleaner_busy
        else 0.0,
        "rollup_rows": figures.rolled_rows,
        "rollup_rows_per_busy_s": round(figures.rolled_rows / figures.rollup_busy, 1)
        if figures.rollup_busy
        else 0.0,
        "backlog_left_rows": left,
        "backlog_cleared_s": round(figures.backlog_cleared_at - started, 1)
        if figures.backlog_cleared_at
        else None,
        "dashboard_latest_p50_ms": round(
            _percentile([x * 1000 for x in figures.read_latencies], 0.5), 2
        ),
        "dashboard_latest_p99_ms": round(
            _percentile([x * 1000 for x in figures.read_latencies], 0.99), 2
        ),
        "db_mb_before": round(size_before / 1e6, 1),
        "db_mb_after": round(info.size_bytes / 1e6, 1),
        "wal_mb_after": round(wal / 1e6, 1),
        "keeps_up": deleted_rate > ingest_rate,
    }
    width = max(len(k) for k in result)
    print(f"{'figure':<{width}}  value")
    print(f"{'-' * width}  {'-' * 12}")
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")
    if figures.batch_latencies:
        print(f"(batches: {len(lat_ms)}, mean {statistics.fmean(lat_ms):.2f} ms)")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
