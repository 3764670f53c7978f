"""Benchmark: how fast a web plane on a shared PostgreSQL database hears of the agents' results.

Run: ``.venv/bin/python bench/web_follow.py`` (no arguments, about half a minute). Needs the
local PostgreSQL (127.0.0.1:5432, database ``test``; ``NYXMON_BENCH_PG`` gives another DSN).

5,000 checks in a fresh schema, each with a first result. A
:class:`~nyxmon.web.shared_store.SharedStoreContext` (what ``nyxmon web`` runs on PostgreSQL)
follows the schema on an event loop of its own; this process then writes batches of 100
results for random checks through ``PostgresStore.write_batch`` (the agent writer's path,
change notices included) at 2,000 results/s (5,000 checks every 2.5 s), and times each
result from its batch's commit to the context publishing its status (what the live pages
get). Also: the full re-read of every status (the safety net and the catch-up after a
reconnect), and the write rate with and without the notices (the writer's cost).
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import threading
import time
import uuid
from typing import Any

import psycopg

from _common import emit, machine, percentile, table
from nyxmon.config import load_config_text
from nyxmon.domain.model import Check, CheckSource, Outcome, Result
from nyxmon.domain.status import CheckStatus
from nyxmon.service_layer.records.batches import WriteBatch
from nyxmon.store.postgres import PostgresStore
from nyxmon.store.postgres import store as pg_store_module
from nyxmon.web.shared_store import SharedStoreContext

CHECKS = 5_000
BATCH = 100
RATE = 2_000.0  # results/s
SECONDS = 10.0
T0 = 1_700_000_000.0


def base_dsn() -> str:
    given = os.environ.get("NYXMON_BENCH_PG")
    if given:
        return given
    for user in ("postgres", os.environ.get("USER", "root")):
        dsn = f"postgresql://{user}@127.0.0.1:5432/test"
        try:
            psycopg.connect(dsn, connect_timeout=3).close()
        except psycopg.Error:
            continue
        return dsn
    sys.exit("no PostgreSQL at 127.0.0.1:5432/test (set NYXMON_BENCH_PG)")


def ids() -> list[str]:
    return [f"svc{n % 50}.check{n}" for n in range(CHECKS)]


def result(check_id: str, at: float, ok: bool = True) -> Result:
    return Result(
        check_id=check_id,
        scheduled_at=at,
        started_at=at,
        duration=0.05,
        outcome=Outcome.OK if ok else Outcome.FAIL,
        message="200 OK in 50 ms",
        timings={"total": 0.05},
        details={"status": 200},
    )


def seed(store: PostgresStore) -> None:
    with store.transaction() as tx:
        for check_id in ids():
            service, _, name = check_id.partition(".")
            tx.checks.upsert(
                Check(
                    id=check_id,
                    service=service,
                    name=name,
                    type="http",
                    interval=5.0,
                    timeout=2.0,
                    params={"url": f"https://{service}.example/{name}"},
                    source=CheckSource.API,
                )
            )
        tx.commit()
    every = ids()
    for start in range(0, CHECKS, 500):
        store.write_batch(WriteBatch(tuple(result(c, T0) for c in every[start : start + 500])))


class Follower:
    """The context on a loop thread of its own; ``heard[started_ms]`` = when published."""

    def __init__(self, dsn: str) -> None:
        config = load_config_text(f"agent: {{database: '{dsn}'}}\n")
        self.store = PostgresStore(dsn, readers=2)
        self.context = SharedStoreContext(config, self.store, full_refresh=3600.0)
        self.heard: dict[int, float] = {}
        self.context.subscribe(self._on_status)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def _on_status(self, status: CheckStatus) -> None:
        if status.last_result_at is not None:
            self.heard[round(status.last_result_at * 1000)] = time.perf_counter()

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.context.start(), self._loop).result(60)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.context.aclose(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self.store.close()


def follow_run(dsn: str) -> dict[str, Any]:
    writer = PostgresStore(dsn, readers=1)
    follower = Follower(dsn)
    try:
        t = time.perf_counter()
        follower.start()
        first_read = time.perf_counter() - t
        full = []
        for _ in range(5):
            t = time.perf_counter()
            follower.context._read_all()
            full.append(time.perf_counter() - t)
        rng = random.Random(3)
        every = ids()
        committed: dict[int, float] = {}  # started_ms -> when its batch committed
        batches = int(RATE * SECONDS / BATCH)
        pace = BATCH / RATE
        start = time.perf_counter()
        ms = round((T0 + 1000.0) * 1000)
        for n in range(batches):
            due = start + n * pace
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            chosen = rng.sample(every, BATCH)
            results = []
            for check_id in chosen:
                ms += 1  # whole milliseconds: what the store keeps, so they read back equal
                results.append(result(check_id, ms / 1000, ok=rng.random() > 0.02))
            writer.write_batch(WriteBatch(tuple(results)))
            done = time.perf_counter()
            for item in results:
                committed[round(item.started_at * 1000)] = done
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if all(at in follower.heard for at in committed):
                break
            time.sleep(0.05)
        lags = [
            (follower.heard[at] - done) * 1000
            for at, done in committed.items()
            if at in follower.heard
        ]
        return {
            "results": len(committed),
            "heard": len(lags),
            "lag_p50_ms": percentile(lags, 50),
            "lag_p99_ms": percentile(lags, 99),
            "lag_max_ms": max(lags) if lags else 0.0,
            "first_read_s": first_read,
            "full_read_ms": min(full) * 1000,
            "notices": follower.context.listener.notices,
            "re_reads": follower.context.refreshes,
        }
    finally:
        follower.stop()
        writer.close()


def write_rate(dsn: str, notices: bool) -> float:
    """Results/s through write_batch for 20,000 results, with or without the notices."""
    store = PostgresStore(dsn, readers=1)
    original = pg_store_module.announce
    if not notices:
        pg_store_module.announce = lambda conn, check_ids: 0  # type: ignore[assignment]
    try:
        every = ids()
        results = [result(every[n % CHECKS], T0 + 5000 + n * 0.001) for n in range(20_000)]
        t = time.perf_counter()
        for start in range(0, len(results), BATCH):
            store.write_batch(WriteBatch(tuple(results[start : start + BATCH])))
        return len(results) / (time.perf_counter() - t)
    finally:
        pg_store_module.announce = original
        store.close()


def main() -> None:
    base = base_dsn()
    name = f"nyxbench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"'.encode())
    dsn = f"{base}?options=-csearch_path%3D{name}"
    try:
        with PostgresStore(dsn, readers=1) as store:
            seed(store)
        figures = follow_run(dsn)
        with_notices: list[float] = []
        without: list[float] = []
        for _ in range(3):  # interleaved, best of each: the machine is shared
            with_notices.append(write_rate(dsn, True))
            without.append(write_rate(dsn, False))
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'.encode())
    figures["write_rate_notices"] = max(with_notices)
    figures["write_rate_plain"] = max(without)
    figures["notice_cost"] = 1 - max(with_notices) / max(without)
    print(
        f"{CHECKS:,} checks; {figures['results']:,} results written at {RATE:,.0f}/s in "
        f"batches of {BATCH}; a SharedStoreContext follows by LISTEN/NOTIFY"
    )
    print(
        table(
            ["figure", "value"],
            [
                # A result superseded by a newer one of its check before the re-read is
                # never published: pages show the newest.
                ("results published", f"{figures['heard']:,} of {figures['results']:,}"),
                ("commit -> published p50 (ms)", figures["lag_p50_ms"]),
                ("commit -> published p99 (ms)", figures["lag_p99_ms"]),
                ("commit -> published max (ms)", figures["lag_max_ms"]),
                ("notices / re-reads", f"{figures['notices']:,} / {figures['re_reads']:,}"),
                ("full re-read of 5,000 statuses (ms)", figures["full_read_ms"]),
                ("write_batch results/s, notices", figures["write_rate_notices"]),
                ("write_batch results/s, none", figures["write_rate_plain"]),
            ],
        )
    )
    print()
    emit({**figures, "checks": CHECKS, "batch": BATCH, "rate": RATE, **machine()})


if __name__ == "__main__":
    main()
