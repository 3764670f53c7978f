"""The web plane and the execution plane must not slow each other down (seed 004, ASYNC-01/02).

A real ``nyxmon run`` process with ``--checks`` HTTP checks against nginx on loopback, and its
web plane on its own thread and loop. Load generators run in another process (aiohttp,
uvloop, signed-in clients looping over the overview page and ``/api/v1/checks``); start lag
comes from the committed results (started_at - scheduled_at).

Run 1: the same checks, all paused (no probe load); ``--readers`` clients at a browser's
pace (``--pause`` between requests) measure overview and API latency.
Run 2: the checks every ``--interval`` s. Windows: no web load (probe start lag alone); the
readers again (latency under probe load, ASYNC-01); ``--clients`` clients hammering as fast
as they can (probe start lag under web load, ASYNC-02, and the web plane's throughput under
its CPU budget). Between them, /metrics is scraped and timed (default and ?phases=all).

What should hold: API latency under probe load close to its latency without, and probe start
lag with the web hammered close to the lag without web load. Needs nginx
(scripts/install-system).

    .venv/bin/python bench/web_under_load.py [--checks 5000] [--interval 5] [--seconds 20]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from _common import emit, machine, percentile, table
from agent_throughput import HOSTS, start_nginx

PASSWORD = "bench-password-123"

LOAD_CLIENT = r"""
import asyncio, json, re, sys, time
import aiohttp, uvloop

base, clients, seconds, password = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
paths = json.loads(sys.argv[5])
pause = float(sys.argv[6])

async def signed_in(session):
    async with session.get(base + "/login") as r:
        page = await r.text()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = {"username": "admin", "password": password, "csrf_token": token, "next": "/"}
    async with session.post(base + "/login", data=form, allow_redirects=False) as r:
        assert r.status == 303, (r.status, await r.text())

async def main():
    timings = {path: [] for path in paths}
    errors = 0
    jar = aiohttp.CookieJar(unsafe=True)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(cookie_jar=jar, connector=connector) as session:
        await signed_in(session)
        stop = time.perf_counter() + seconds
        async def client(n):
            nonlocal errors
            i = n
            while time.perf_counter() < stop:
                path = paths[i % len(paths)]
                i += 1
                t = time.perf_counter()
                async with session.get(base + path) as r:
                    await r.read()
                    if r.status != 200:
                        errors += 1
                timings[path].append((time.perf_counter() - t) * 1000)
                if pause:
                    await asyncio.sleep(pause)
        await asyncio.gather(*(client(n) for n in range(clients)))
    print(json.dumps({"timings": timings, "errors": errors}))

uvloop.run(main())
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(
    path: Path,
    db: Path,
    target_port: int,
    web_port: int,
    checks: int,
    interval: float,
    paused: bool,
) -> None:
    lines = [
        "agent:",
        f"  database: {db}",
        "  concurrency: 500",
        "  per_host_concurrency: 500",
        "  shutdown_grace: 5s",
        "web:",
        f"  listen: 127.0.0.1:{web_port}",
        "defaults:",
        f"  interval: {interval}s",
        f"  timeout: {min(interval * 0.8, 5.0)}s",
        "services:",
    ]
    flag = ", paused: true" if paused else ""
    for s in range(0, checks, 100):
        lines += [f"  - name: svc{s // 100}", "    checks:"]
        for i in range(s, min(checks, s + 100)):
            url = f"http://127.0.0.{i % HOSTS + 1}:{target_port}/"
            lines.append(f"      - {{name: c{i}, type: http, url: '{url}'{flag}}}")
    path.write_text("\n".join(lines) + "\n")


class Agent:
    """``nyxmon run`` in a child process, with its web plane on ``port``."""

    def __init__(self, workdir: Path, name: str, target_port: int, args: Any, paused: bool):
        self.port = free_port()
        self.db = workdir / f"{name}.db"
        config = workdir / f"{name}.yaml"
        write_config(config, self.db, target_port, self.port, args.checks, args.interval, paused)
        self.log = (workdir / f"{name}.log").open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "nyxmon", "run", "-c", str(config), "--log-level", "warning"],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "NYXMON_ADMIN_PASSWORD": PASSWORD},
        )
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(self.base + "/healthz", timeout=2).read()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the agent did not start; see {self.log.name}") from None
                time.sleep(0.2)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(60)
        self.log.close()
        if code != 0:
            raise RuntimeError(f"the agent exited with {code}; see {self.log.name}")

    def lags(self, t0: float, t1: float) -> list[float]:
        with sqlite3.connect(self.db) as conn:
            # A run of minutes: every result is still a row (packing starts an hour on).
            rows = conn.execute(
                "SELECT (started_ms - lag_ms) / 1000.0, started_ms / 1000.0 FROM results"
                " WHERE started_ms - lag_ms >= ? AND started_ms - lag_ms < ?",
                (t0 * 1000, t1 * 1000),
            ).fetchall()
        return [max(0.0, started - scheduled) * 1000 for scheduled, started in rows]


def web_load(
    base: str, clients: int, seconds: float, paths: list[str], pause: float = 0.0
) -> dict[str, Any]:
    """``clients`` signed-in clients looping over ``paths`` (``pause`` s between requests)."""
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            LOAD_CLIENT,
            base,
            str(clients),
            str(seconds),
            PASSWORD,
            json.dumps(paths),
            str(pause),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 120,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def scrape_ms(base: str, query: str = "") -> tuple[float, int]:
    began = time.perf_counter()
    body = urllib.request.urlopen(base + "/metrics" + query, timeout=120).read()
    return (time.perf_counter() - began) * 1000, len(body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=5000)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each window")
    parser.add_argument("--clients", type=int, default=16, help="clients hammering the web")
    parser.add_argument("--readers", type=int, default=2, help="clients at a browser's pace")
    parser.add_argument("--pause", type=float, default=0.1, help="their pause between requests")
    args = parser.parse_args()
    overview, api = "/", "/api/v1/checks?limit=100"
    paths = [overview, api]
    target_port = free_port()

    with tempfile.TemporaryDirectory(prefix="nyxmon-web-bench-") as tmp:
        workdir = Path(tmp)
        nginx = start_nginx(workdir / "nginx", target_port)
        try:
            idle_agent = Agent(workdir, "idle", target_port, args, paused=True)
            try:
                idle = web_load(idle_agent.base, args.readers, args.seconds, paths, args.pause)
            finally:
                idle_agent.stop()

            agent = Agent(workdir, "loaded", target_port, args, paused=False)
            try:
                time.sleep(args.interval + 5)  # every check has run once; caches are warm
                a0 = time.time()
                time.sleep(args.seconds)
                a1 = time.time()
                scrape, scrape_bytes = scrape_ms(agent.base)
                scrape_all, scrape_all_bytes = scrape_ms(agent.base, "?phases=all")
                loaded = web_load(agent.base, args.readers, args.seconds, paths, args.pause)
                b0 = time.time()
                hammered = web_load(agent.base, args.clients, args.seconds, paths)
                b1 = time.time()
                time.sleep(min(args.interval, 5.0) + 1.0)  # runs due in the windows finish
            finally:
                agent.stop()
            lag_idle = agent.lags(a0, a1)
            lag_loaded = agent.lags(b0, b1)
        finally:
            nginx.send_signal(signal.SIGQUIT)
            nginx.wait(10)

    def figures(run: dict[str, Any], path: str) -> tuple[float, float, int]:
        values = run["timings"][path]
        return percentile(values, 50), percentile(values, 99), len(values)

    rows = []
    for label, run, clients in (
        ("no probes (checks paused)", idle, args.readers),
        ("probe load", loaded, args.readers),
        ("probe load, hammered", hammered, args.clients),
    ):
        for name, path in (("overview /", overview), ("GET /api/v1/checks", api)):
            p50, p99, n = figures(run, path)
            rows.append([f"{name}, {label}", clients, n / args.seconds, p50, p99])
    print(
        f"NyxMon web plane under load: {args.checks} checks every {args.interval:g} s ({machine()})"
    )
    print(table(["requests", "clients", "req/s", "p50 ms", "p99 ms"], rows))
    print()
    lag_rows = [
        ["without web load", len(lag_idle), percentile(lag_idle, 50), percentile(lag_idle, 99)],
        [
            f"web hammered by {args.clients} clients",
            len(lag_loaded),
            percentile(lag_loaded, 50),
            percentile(lag_loaded, 99),
        ],
    ]
    print(table(["probe start lag", "runs", "p50 ms", "p99 ms"], lag_rows))
    print(
        f"\n/metrics scrape of {args.checks} checks: {scrape:.0f} ms, {scrape_bytes / 1e6:.1f} MB;"
        f" with ?phases=all: {scrape_all:.0f} ms, {scrape_all_bytes / 1e6:.1f} MB"
    )
    errors = idle["errors"] + loaded["errors"] + hammered["errors"]
    print(f"web errors (non-200): {errors}")
    emit(
        {
            "checks": args.checks,
            "interval_s": args.interval,
            "clients": args.clients,
            "readers": args.readers,
            "window_s": args.seconds,
            "overview_p50_ms": round(figures(loaded, overview)[0], 2),
            "overview_p99_ms": round(figures(loaded, overview)[1], 2),
            "overview_p99_ms_idle": round(figures(idle, overview)[1], 2),
            "api_p50_ms_idle": round(figures(idle, api)[0], 2),
            "api_p99_ms_idle": round(figures(idle, api)[1], 2),
            "api_p50_ms_loaded": round(figures(loaded, api)[0], 2),
            "api_p99_ms_loaded": round(figures(loaded, api)[1], 2),
            "api_p99_ms_hammered": round(figures(hammered, api)[1], 2),
            "hammered_requests_per_s": round(
                sum(len(v) for v in hammered["timings"].values()) / args.seconds, 1
            ),
            "lag_p50_ms_idle": round(percentile(lag_idle, 50), 2),
            "lag_p99_ms_idle": round(percentile(lag_idle, 99), 2),
            "lag_p50_ms_web_loaded": round(percentile(lag_loaded, 50), 2),
            "lag_p99_ms_web_loaded": round(percentile(lag_loaded, 99), 2),
            "runs_idle": len(lag_idle),
            "runs_web_loaded": len(lag_loaded),
            "metrics_scrape_ms": round(scrape, 1),
            "metrics_bytes": scrape_bytes,
            "metrics_scrape_ms_all_phases": round(scrape_all, 1),
            "metrics_bytes_all_phases": scrape_all_bytes,
            "web_errors": errors,
        }
    )


if __name__ == "__main__":
    main()
