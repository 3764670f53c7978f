"""Several agents on one PostgreSQL database: 5,000 HTTP checks every 5 s shared by 1, 2 and 3
agents (issue 17's benchmark).

For each number of agents, in a fresh schema: the agents start (``nyxmon run`` processes,
``agent.database: postgresql://...``, default 15 s leases), share the checks by leases, and
run a window of ``--seconds``. From the rows they committed (each result names the agent that
probed it): per-agent probes/s and CPU per probe (from /proc), due runs vs done runs, start
lag p99, and duplicate runs (one check's scheduled slot probed by two agents: two owners at
once; a taken-over check's immediate run beside its next regular one is one agent's, and
does not count).
Then, with two or three agents, one is killed with SIGKILL: ``failover_s`` is how long until
every check it held was probed again by another agent; ``lost`` counts results that were
committed when it died and are gone at the end (must be 0). The survivors stop with SIGTERM
and must exit 0.

``pg_write_vs_copy`` is :mod:`pg_store`'s measurement (the store's batched writes over a raw
psycopg COPY of the same rows), run once here with fewer rows.

Targets: done_ratio >= 0.99, lag_p99_ms <= 250, duplicates == 0, lost == 0. This machine has
2 cores shared with others: three agents, PostgreSQL and nginx share them, so per-agent CPU
per probe is the figure that carries over to bigger machines.

The target is nginx on 127.0.0.1-50 (as bench/agent_throughput.py); it needs
``scripts/install-system``. The local PostgreSQL (127.0.0.1:5432, database ``test``, or
``NYXMON_BENCH_PG``).

    .venv/bin/python bench/multi_agent.py [--checks 5000] [--interval 5] [--seconds 60]
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg

from _common import emit, machine, percentile, table
from agent_throughput import HOSTS, start_nginx
from nyxmon.agent.scheduler import phase_of
from nyxmon.store.sqlite.codec import result_values
from pg_store import Schemas, base_dsn, copy_round, make_results, store_round

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def write_config(
    path: Path, dsn: str, port: int, web_port: int, checks: int, interval: float
) -> None:
    lines = [
        "agent:",
        f"  database: '{dsn}'",
        "  concurrency: 500",
        "  per_host_concurrency: 500",
        "  shutdown_grace: 5s",
        # One process per agent: three agents and their dashboards would be six on 2 cores.
        f"web: {{listen: '127.0.0.1:{web_port}', separate_process: false}}",
        "defaults:",
        f"  interval: {interval}s",
        f"  timeout: {min(interval * 0.8, 5.0)}s",
        "services:",
    ]
    per_service = 100
    for s in range(0, checks, per_service):
        lines.append(f"  - name: svc{s // per_service}")
        lines.append("    checks:")
        for i in range(s, min(checks, s + per_service)):
            host = f"127.0.0.{i % HOSTS + 1}"
            lines.append(f"      - {{name: c{i}, type: http, url: 'http://{host}:{port}/'}}")
    path.write_text("\n".join(lines) + "\n")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def rows(dsn: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return list(conn.execute(sql.encode(), params).fetchall())


def wait_until(what: str, predicate: Any, timeout: float) -> float:
    began = time.time()
    while not predicate():
        if time.time() - began > timeout:
            raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.25)
    return time.time() - began


def spread(dsn: str, checks: int, agents: int) -> bool:
    try:
        held = rows(
            dsn,
            "SELECT owner, count(*) FROM check_leases WHERE owner IS NOT NULL"
            " AND expires > now() GROUP BY owner",
        )
    except psycopg.Error:
        return False
    counts = [n for _, n in held]
    return len(counts) == agents and sum(counts) == checks and min(counts) >= checks / agents * 0.9


def scenario(
    workdir: Path, base: str, port: int, agents: int, checks: int, interval: float, seconds: float
) -> dict[str, Any]:
    schemas = Schemas(base)
    dsn = schemas.new()
    procs: list[subprocess.Popen[bytes]] = []
    logs = []
    try:
        for n in range(agents):
            config = workdir / f"multi-{agents}-{n}.yaml"
            write_config(config, dsn, port, port + 10 + 10 * agents + n, checks, interval)
            log = (workdir / f"multi-{agents}-{n}.log").open("w")
            logs.append(log)
            procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "nyxmon",
                        "run",
                        "--config",
                        str(config),
                        "--log-level",
                        "warning",
                    ],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        wait_until("the agents sharing the checks", lambda: spread(dsn, checks, agents), 180)
        time.sleep(interval + 2.0)  # every check ran once at least on its owner
        ids = {p.pid: rows(dsn, "SELECT id FROM agents WHERE pid = %s", p.pid)[0][0] for p in procs}
        cpu0 = {p.pid: cpu_seconds(p.pid) for p in procs}
        t0 = time.time()
        time.sleep(seconds)
        t1 = time.time()
        cpu1 = {p.pid: cpu_seconds(p.pid) for p in procs}
        time.sleep(min(interval, 5.0) + 1.0)  # runs due before t1 finish and are committed

        failover = None
        lost = 0
        survivors = procs
        if agents > 1:
            victim = procs[random.Random(agents).randrange(agents)]
            dead = ids[victim.pid]
            killed_at = time.time()
            victim.send_signal(signal.SIGKILL)
            victim.wait(10)
            orphans = [
                r[0] for r in rows(dsn, "SELECT check_id FROM check_leases WHERE owner = %s", dead)
            ]
            committed = rows(dsn, "SELECT count(*) FROM results WHERE agent_id = %s", dead)[0][0]

            def resumed() -> bool:
                got = rows(
                    dsn,
                    "SELECT count(DISTINCT c.id) FROM results r JOIN checks c ON c.pk = r.check_pk"
                    " WHERE r.agent_id <> %s AND r.started_ms > %s AND c.id = ANY(%s)",
                    dead,
                    killed_at * 1000,
                    orphans,
                )[0][0]
                return bool(got == len(orphans))

            failover = wait_until("the killed agent's checks to resume", resumed, 120)
            time.sleep(1.0)
            lost = (
                committed
                - rows(dsn, "SELECT count(*) FROM results WHERE agent_id = %s", dead)[0][0]
            )
            survivors = [p for p in procs if p is not victim]
        for proc in survivors:
            proc.send_signal(signal.SIGTERM)
        codes = [proc.wait(60) for proc in survivors]
        if any(codes):
            raise RuntimeError(f"an agent exited with {codes}; see {workdir}/multi-{agents}-*.log")

        window = rows(
            dsn,
            "SELECT r.agent_id, c.id, (r.started_ms - r.lag_ms), r.lag_ms FROM results r"
            " JOIN checks c ON c.pk = r.check_pk"
            " WHERE r.started_ms - r.lag_ms >= %s AND r.started_ms - r.lag_ms < %s",
            t0 * 1000,
            t1 * 1000,
        )
        slots = rows(
            dsn,
            "SELECT count(*) FROM (SELECT check_pk, round((started_ms - lag_ms) / %s::numeric)"
            " FROM results GROUP BY 1, 2 HAVING count(DISTINCT agent_id) > 1) d",
            interval * 1000,
        )[0][0]
        live = [r[0] for r in rows(dsn, "SELECT id FROM checks WHERE archived_at IS NULL")]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
        for log in logs:
            log.close()
        schemas.drop()

    due = 0
    for check_id in live:
        phase = phase_of(check_id) * interval
        first = t0 + ((phase - t0) % interval)
        if first < t1:
            due += int((t1 - first) // interval) + 1
    per_agent = []
    for proc in procs:
        probes = sum(1 for r in window if r[0] == ids[proc.pid])
        cpu = cpu1[proc.pid] - cpu0[proc.pid]
        per_agent.append(
            {
                "probes_per_s": probes / (t1 - t0),
                "cpu_ms_per_probe": cpu * 1000 / probes if probes else None,
                "cpu_share": cpu / (t1 - t0),
            }
        )
    lags = [float(r[3]) for r in window]
    return {
        "agents": agents,
        "due": due,
        "done": len(window),
        "done_ratio": len(window) / due if due else 0.0,
        "lag_p50_ms": percentile(lags, 50),
        "lag_p99_ms": percentile(lags, 99),
        "failover_s": failover,
        "duplicates": int(slots),
        "lost": int(lost),
        "per_agent": per_agent,
    }


def pg_write_vs_copy(base: str, results: int) -> float:
    """pg_store.py's figure with fewer rows: best of two rounds each side."""
    schemas = Schemas(base)
    made = make_results(1000, results)
    pk_of = {f"svc{n % 50}.check{n}": n + 1 for n in range(1000)}
    encoded = [result_values(pk_of[r.check_id], r, i) for i, r in enumerate(made)]
    store = copy = float("inf")
    try:
        for _ in range(2):
            store = min(store, store_round(schemas, 1000, made))
            copy = min(copy, copy_round(schemas, 1000, encoded, 100))
    finally:
        schemas.drop()
    return copy / store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--checks", type=int, default=5000)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--agents", default="1,2,3", help="comma-separated agent counts")
    parser.add_argument("--copy-results", type=int, default=50_000)
    args = parser.parse_args()
    base = base_dsn()
    port = 18000 + os.getpid() % 1000
    counts = [int(n) for n in args.agents.split(",")]
    with tempfile.TemporaryDirectory(prefix="nyxmon-multi-") as tmp:
        workdir = Path(tmp)
        nginx = start_nginx(workdir / "nginx", port)
        try:
            outcomes = [
                scenario(workdir, base, port, n, args.checks, args.interval, args.seconds)
                for n in counts
            ]
        finally:
            nginx.send_signal(signal.SIGQUIT)
            nginx.wait(10)
    ratio = pg_write_vs_copy(base, args.copy_results)
    load = os.getloadavg()
    print(
        f"{args.checks:,} checks every {args.interval:g} s, window {args.seconds:g} s; "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    print(
        table(
            [
                "agents",
                "done ratio",
                "lag p50 ms",
                "lag p99 ms",
                "failover s",
                "dup",
                "lost",
                "probes/s per agent",
                "CPU ms/probe per agent",
            ],
            [
                (
                    o["agents"],
                    o["done_ratio"],
                    o["lag_p50_ms"],
                    o["lag_p99_ms"],
                    "-" if o["failover_s"] is None else o["failover_s"],
                    o["duplicates"],
                    o["lost"],
                    " ".join(f"{a['probes_per_s']:.0f}" for a in o["per_agent"]),
                    " ".join(
                        "-" if a["cpu_ms_per_probe"] is None else f"{a['cpu_ms_per_probe']:.2f}"
                        for a in o["per_agent"]
                    ),
                )
                for o in outcomes
            ],
        )
    )
    print(f"PostgreSQL store writes vs raw COPY (batches of 100): {ratio:.3f}")
    print()
    failovers = [o["failover_s"] for o in outcomes if o["failover_s"] is not None]
    emit(
        {
            "agents": counts,
            "checks": args.checks,
            "interval": args.interval,
            "seconds": args.seconds,
            "done_ratio": round(min(o["done_ratio"] for o in outcomes), 4),
            "lag_p99_ms": max(o["lag_p99_ms"] for o in outcomes),
            "failover_s": round(max(failovers), 2) if failovers else None,
            "duplicates": sum(o["duplicates"] for o in outcomes),
            "lost": sum(o["lost"] for o in outcomes),
            "pg_write_vs_copy": round(ratio, 3),
            "scenarios": outcomes,
            "load_average": [round(x, 2) for x in load],
            **machine(),
        }
    )


if __name__ == "__main__":
    main()
