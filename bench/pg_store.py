"""Benchmark: results written through the PostgreSQL store against a raw psycopg COPY.

Run: ``.venv/bin/python bench/pg_store.py`` (no arguments: the target scenario, about a
minute). Needs the local PostgreSQL (127.0.0.1:5432, database ``test``; ``NYXMON_BENCH_PG``
gives another DSN). Quicker: ``--results 50000``.

What it does, in one run: 1,000 checks, 200,000 HTTP-like results (timings, a status line,
details as the probes write them). Each round writes them twice, into two fresh schemas made
by the store's own migration (same tables, same indexes):

* **store**: ``PostgresStore.write_batch`` in batches of 100 in time order, as the agent's
  store writer sends them (one transaction per batch: the check-key lookup and one
  ``INSERT ... SELECT FROM unnest(...) RETURNING id``), encoding included;
* **copy**: the same rows, already encoded, by psycopg ``COPY results (...) FROM STDIN``, one
  transaction per batch of the same size (no ids come back: the agent needs them);
* **copy bulk**: one COPY of everything, the ceiling.

Three rounds, interleaved; each side's best round counts. ``pg_write_vs_copy`` is the store's
rate over the batched COPY's. The last line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import uuid
from typing import Any

import psycopg

from _common import emit, machine, table
from nyxmon.domain.model import Check, CheckSource, Outcome, Result
from nyxmon.service_layer.records.batches import WriteBatch
from nyxmon.store.postgres import PostgresStore
from nyxmon.store.sqlite.codec import RESULT_INSERT_COLUMNS, result_values

BATCH = 100
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


class Schemas:
    def __init__(self, base: str) -> None:
        self.base = base
        self.made: list[str] = []

    def new(self) -> str:
        name = f"nyxbench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(self.base, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{name}"'.encode())
        self.made.append(name)
        return f"{self.base}?options=-csearch_path%3D{name}"

    def drop(self) -> None:
        with psycopg.connect(self.base, autocommit=True) as conn:
            for name in self.made:
                conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'.encode())


def make_results(checks: int, count: int) -> list[Result]:
    rng = random.Random(7)
    out = []
    per_round = checks
    for i in range(count):
        n = i % per_round
        t = T0 + (i // per_round) * 60.0 + n * 0.01
        ok = rng.random() > 0.05
        total = rng.uniform(0.01, 0.3)
        out.append(
            Result(
                check_id=f"svc{n % 50}.check{n}",
                scheduled_at=t,
                started_at=t + rng.uniform(0, 0.02),
                duration=total,
                outcome=Outcome.OK if ok else Outcome.FAIL,
                message=f"{200 if ok else 503} {'OK' if ok else 'Service Unavailable'}"
                f" in {total * 1000:.0f} ms",
                timings={
                    "dns": total * 0.1,
                    "connect": total * 0.2,
                    "tls": total * 0.3,
                    "total": total,
                },
                details={
                    "status": 200 if ok else 503,
                    "size": 5120 + n % 7,
                    "url": f"https://svc{n % 50}.example/check{n}",
                    "ip": "10.0.0.1",
                },
            )
        )
    return out


def add_checks(store: PostgresStore, checks: int) -> None:
    with store.transaction() as tx:
        for n in range(checks):
            tx.checks.upsert(
                Check(
                    id=f"svc{n % 50}.check{n}",
                    service=f"svc{n % 50}",
                    name=f"check{n}",
                    type="http",
                    interval=60.0,
                    timeout=5.0,
                    params={"url": f"https://svc{n % 50}.example/check{n}"},
                    source=CheckSource.API,
                )
            )
        tx.commit()


def store_round(schemas: Schemas, checks: int, results: list[Result]) -> float:
    store = PostgresStore(schemas.new(), readers=1)
    try:
        add_checks(store, checks)
        t = time.perf_counter()
        for start in range(0, len(results), BATCH):
            store.write_batch(WriteBatch(results[start : start + BATCH]))
        elapsed = time.perf_counter() - t
        assert store.count_results() == len(results)
        return elapsed
    finally:
        store.close()


def copy_round(schemas: Schemas, checks: int, rows: list[tuple[Any, ...]], batch: int) -> float:
    dsn = schemas.new()
    store = PostgresStore(dsn, readers=1)
    add_checks(store, checks)
    store.close()
    sql = f"COPY results ({RESULT_INSERT_COLUMNS}) FROM STDIN".encode()
    with psycopg.connect(dsn, autocommit=True) as conn:
        t = time.perf_counter()
        for start in range(0, len(rows), batch):
            with conn.transaction(), conn.cursor() as cur, cur.copy(sql) as copy:
                for row in rows[start : start + batch]:
                    copy.write_row(row)
        elapsed = time.perf_counter() - t
        (n,) = conn.execute("SELECT count(*) FROM results").fetchone() or (0,)
        assert n == len(rows)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--checks", type=int, default=1000)
    parser.add_argument("--results", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    schemas = Schemas(base_dsn())
    results = make_results(args.checks, args.results)
    # Check keys as the migration assigns them: 1..checks in the order they were added.
    pk_of = {f"svc{n % 50}.check{n}": n + 1 for n in range(args.checks)}
    t = time.perf_counter()
    rows = [result_values(pk_of[r.check_id], r, i) for i, r in enumerate(results)]
    encode = time.perf_counter() - t
    times: dict[str, list[float]] = {"store": [], "copy": [], "copy bulk": []}
    try:
        for _ in range(args.rounds):
            times["store"].append(store_round(schemas, args.checks, results))
            times["copy"].append(copy_round(schemas, args.checks, rows, BATCH))
            times["copy bulk"].append(copy_round(schemas, args.checks, rows, len(rows)))
            schemas.drop()
            schemas.made.clear()
    finally:
        schemas.drop()
    best = {name: min(values) for name, values in times.items()}
    rate = {name: args.results / seconds for name, seconds in best.items()}
    print(
        f"{args.results:,} results over {args.checks:,} checks, batches of {BATCH}, "
        f"best of {args.rounds} rounds; encoding alone {args.results / encode:,.0f} results/s"
    )
    print(
        table(
            ["path", "best s", "results/s", "vs batched COPY"],
            [
                (name, best[name], rate[name], rate[name] / rate["copy"])
                for name in ("store", "copy", "copy bulk")
            ],
        )
    )
    print()
    emit(
        {
            "results": args.results,
            "checks": args.checks,
            "batch": BATCH,
            "write_rate": round(rate["store"]),
            "copy_rate": round(rate["copy"]),
            "copy_bulk_rate": round(rate["copy bulk"]),
            "encode_rate": round(args.results / encode),
            "pg_write_vs_copy": round(rate["store"] / rate["copy"], 3),
            "pg_write_vs_bulk_copy": round(rate["store"] / rate["copy bulk"], 3),
            **machine(),
        }
    )


if __name__ == "__main__":
    main()
