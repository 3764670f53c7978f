"""Soak: a real agent at 1,000 probes/s for a long while, watched for growth.

``--checks`` HTTP checks (5,000) every ``--interval`` seconds (5) against a local nginx, run by
a real ``nyxmon run`` process (its web plane idle beside it, as users run it) for
``--minutes`` (10; the note's run is 60). Every ``--sample-seconds`` (60) the agent process is
sampled from /proc: RSS, open file descriptors (the fewest of five reads 0.2 s apart, so
probes' sockets in flight do not pass for a leak), threads (and the RSS of its child processes,
the web plane); the database's size on disk (file, WAL and shared memory together); and the
start lag (started_at - scheduled_at) of every run scheduled in the sample's minute, read
through the store's read API, so this survives a change of the results table's layout.

Growth per hour is the least-squares slope over the samples taken after ``--warmup-minutes``
(5 by default; shortened when the run is too short to keep at least three samples after it),
so one noisy sample cannot dominate and start-up (caches, pools, the first WAL) is left out.

Retention: the agent runs with ``agent.retention.raw`` = ``--raw-retention`` (5m), so raw rows
older than that may go; the store deletes a raw result only once its hour is rolled up (an
hour is rolled up shortly after it ends), so the database is bounded by retention plus the
current hour: within one hour it grows, and it shrinks once an hour boundary is passed.

    .venv/bin/python bench/soak.py [--minutes 10] [--checks 5000] [--interval 5]

Prints a readable table, then as its last line one JSON object: ``rss_growth_mb_per_h``,
``fd_growth_per_h``, ``threads_growth_per_h``, ``db_growth_mb_per_h``, ``lag_p99_ms`` (over the
runs after warm-up), ``db_mb`` (at the end) and every sample's figures.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from _common import emit, machine, percentile, start_lags, table
from agent_throughput import HOSTS, start_nginx

# Runs scheduled in a sample's minute are read this many seconds after its end, so runs due
# near the end have finished and their batch is committed.
_SETTLE_S = 10.0


@dataclass(frozen=True)
class Sample:
    minute: float
    rss_mb: float
    children_rss_mb: float
    fds: int
    threads: int
    db_mb: float
    runs: int
    lag_p50_ms: float
    lag_p99_ms: float


def write_config(
    path: Path, db: Path, port: int, checks: int, interval: float, raw_retention: str
) -> None:
    lines = [
        "agent:",
        f"  database: {db}",
        "  concurrency: 500",
        "  per_host_concurrency: 500",
        "  shutdown_grace: 5s",
        f"  retention: {{raw: {raw_retention}}}",
        f"web: {{listen: '127.0.0.1:{port + 1}'}}",
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


def _status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def _children(pid: int) -> list[int]:
    """Every descendant of ``pid`` (the web plane's process and anything it started)."""
    found: list[int] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").iterdir():
            try:
                kids = [int(k) for k in (task / "children").read_text().split()]
            except (FileNotFoundError, ProcessLookupError):
                continue
            found.extend(kids)
            todo.extend(kids)
    return found


def _settled_fds(pid: int, reads: int = 5, pause: float = 0.2) -> int:
    """Open descriptors, the fewest of a few reads: probes in flight hold sockets for
    milliseconds, and one read landing on a burst of them would look like growth."""
    fewest = len(os.listdir(f"/proc/{pid}/fd"))
    for _ in range(reads - 1):
        time.sleep(pause)
        fewest = min(fewest, len(os.listdir(f"/proc/{pid}/fd")))
    return fewest


def _db_mb(db: Path) -> float:
    total = 0
    for suffix in ("", "-wal", "-shm"):
        part = Path(str(db) + suffix)
        if part.exists():
            total += part.stat().st_size
    return total / 1e6


def sample(
    pid: int, db: Path, started: float, window: tuple[float, float]
) -> tuple[Sample, list[float]]:
    """The process's figures now, and the start lags (ms) of the runs scheduled in ``window``."""
    children_kb = 0
    for child in _children(pid):
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            children_kb += _status_kb(child, "VmRSS")
    lags = start_lags(db, *window)
    return Sample(
        minute=round((time.time() - started) / 60, 2),
        rss_mb=_status_kb(pid, "VmRSS") / 1024,
        children_rss_mb=children_kb / 1024,
        fds=_settled_fds(pid),
        threads=_status_kb(pid, "Threads"),
        db_mb=_db_mb(db),
        runs=len(lags),
        lag_p50_ms=percentile(lags, 50),
        lag_p99_ms=percentile(lags, 99),
    ), lags


def slope_per_hour(samples: list[Sample], field: str) -> float:
    """Least-squares slope of ``field`` against time, per hour (0.0 with fewer than 2 samples)."""
    if len(samples) < 2:
        return 0.0
    xs = [s.minute / 60 for s in samples]
    ys = [float(getattr(s, field)) for s in samples]
    return statistics.linear_regression(xs, ys).slope


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--checks", type=int, default=5000)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--sample-seconds", type=float, default=60.0)
    parser.add_argument("--warmup-minutes", type=float, default=5.0)
    parser.add_argument("--raw-retention", default="5m", help="agent.retention.raw")
    args = parser.parse_args()
    port = 19080 + os.getpid() % 1000
    total_samples = int(args.minutes * 60 // args.sample_seconds)
    if total_samples < 2:
        sys.exit("bench/soak.py needs at least two samples: raise --minutes")
    # Keep at least three samples (or all there are) after the warm-up for the slope.
    keep = min(3, total_samples)
    warmup_samples = min(int(args.warmup_minutes * 60 // args.sample_seconds), total_samples - keep)
    warmup_minutes = warmup_samples * args.sample_seconds / 60

    samples: list[Sample] = []
    kept_lags: list[float] = []
    with tempfile.TemporaryDirectory(prefix="nyxmon-soak-") as tmp:
        workdir = Path(tmp)
        nginx = start_nginx(workdir / "nginx", port)
        db = workdir / "soak.db"
        config = workdir / "soak.yaml"
        write_config(config, db, port, args.checks, args.interval, args.raw_retention)
        log_path = workdir / "agent.log"
        try:
            with log_path.open("w") as log:
                command = ["-m", "nyxmon", "run", "-c", str(config), "--log-level", "warning"]
                agent = subprocess.Popen(
                    [sys.executable, *command],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
                started = time.time()
                try:
                    for k in range(1, total_samples + 1):
                        due = started + k * args.sample_seconds
                        time.sleep(max(0.0, due - time.time()))
                        if agent.poll() is not None:
                            raise RuntimeError(f"the agent exited with {agent.returncode}")
                        window = (due - args.sample_seconds - _SETTLE_S, due - _SETTLE_S)
                        taken, lags = sample(agent.pid, db, started, window)
                        samples.append(taken)
                        if k > warmup_samples:
                            kept_lags.extend(lags)
                        print(
                            f"[{taken.minute:6.2f} min] RSS {taken.rss_mb:.1f} MB, "
                            f"fds {taken.fds}, threads {taken.threads}, db {taken.db_mb:.1f} MB, "
                            f"runs {taken.runs}, lag p99 {taken.lag_p99_ms:.1f} ms",
                            flush=True,
                        )
                finally:
                    agent.send_signal(signal.SIGTERM)
                    code = agent.wait(120)
            if code != 0:
                tail = log_path.read_text()[-2000:]
                raise RuntimeError(f"the agent exited with {code} on SIGTERM:\n{tail}")
        finally:
            nginx.send_signal(signal.SIGQUIT)
            nginx.wait(10)

    after = samples[warmup_samples:]
    expected = args.checks * args.sample_seconds / args.interval
    print(
        f"\nNyxMon soak: {args.checks} HTTP checks every {args.interval:g} s "
        f"({args.checks / args.interval:,.0f} probes/s) for {args.minutes:g} min against nginx; "
        f"raw retention {args.raw_retention} ({machine()})"
    )
    print(
        table(
            ["min", "RSS MB", "web RSS MB", "fds", "threads", "db MB", "runs", "lag p50", "p99 ms"],
            [
                [
                    s.minute,
                    s.rss_mb,
                    s.children_rss_mb,
                    s.fds,
                    s.threads,
                    s.db_mb,
                    s.runs,
                    s.lag_p50_ms,
                    s.lag_p99_ms,
                ]
                for s in samples
            ],
        )
    )
    figures: dict[str, Any] = {
        "checks": args.checks,
        "interval_s": args.interval,
        "minutes": args.minutes,
        "raw_retention": args.raw_retention,
        "warmup_minutes": warmup_minutes,
        "slope_samples": len(after),
        "rss_growth_mb_per_h": round(slope_per_hour(after, "rss_mb"), 2),
        "web_rss_growth_mb_per_h": round(slope_per_hour(after, "children_rss_mb"), 2),
        "fd_growth_per_h": round(slope_per_hour(after, "fds"), 2),
        "threads_growth_per_h": round(slope_per_hour(after, "threads"), 2),
        "db_growth_mb_per_h": round(slope_per_hour(after, "db_mb"), 2),
        "lag_p99_ms": round(percentile(kept_lags, 99), 2),
        "db_mb": round(samples[-1].db_mb, 2),
        "done_ratio": round(sum(s.runs for s in after) / (expected * len(after)), 4),
        "samples": [
            {k: round(v, 2) if isinstance(v, float) else v for k, v in asdict(s).items()}
            for s in samples
        ],
    }
    print(
        f"\ngrowth per hour after {warmup_minutes:g} min of warm-up "
        f"(least-squares slope over {len(after)} samples): "
        f"RSS {figures['rss_growth_mb_per_h']} MB, fds {figures['fd_growth_per_h']}, "
        f"threads {figures['threads_growth_per_h']}, db {figures['db_growth_mb_per_h']} MB; "
        f"lag p99 {figures['lag_p99_ms']} ms; {figures['done_ratio'] * 100:.2f}% of due runs done"
    )
    emit(figures)


if __name__ == "__main__":
    main()
