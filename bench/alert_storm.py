"""Alert storm: ``--checks`` checks flip down at once; every DOWN must arrive once, quickly.

nginx (one worker, on 50 loopback addresses) answers 200, then is reloaded to answer 503: every
check fails at its next run. A real ``nyxmon run`` process (failure_threshold 2) turns that into
one DOWN notice per check, committed to the outbox with the results and delivered to a webhook
receiver running in a process of its own, which records each idempotency key and its arrival.

Figures: seconds from the flip to the last notification received, notifications/s while they
arrive, lost (expected minus unique received) and duplicates, and the probe start lag p99
during the storm (from the committed results; target: within issue 5's 250 ms).

    .venv/bin/python bench/alert_storm.py [--checks 2000] [--interval 2]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from _common import emit, machine, percentile, table
from agent_throughput import HOSTS, find_nginx

RECEIVER = r"""
import json, sys, time
from aiohttp import web
keys, duplicates, first, last = set(), 0, None, None
async def hook(request):
    global duplicates, first, last
    key = request.headers.get("X-NyxMon-Idempotency-Key", "")
    await request.read()
    now = time.time()
    if key in keys:
        duplicates += 1
    else:
        keys.add(key)
        first = first or now
        last = now
    return web.Response(text="ok")
async def stats(request):
    return web.json_response({"unique": len(keys), "duplicates": duplicates,
                              "first": first, "last": last})
app = web.Application()
app.router.add_post("/hook", hook)
app.router.add_get("/stats", stats)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""


def nginx_conf(workdir: Path, port: int, status: int) -> Path:
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (workdir / sub).mkdir(parents=True, exist_ok=True)
    os.chmod(workdir, 0o777)
    conf = workdir / "nginx.conf"
    conf.write_text(
        f"worker_processes 1; daemon off; pid {workdir}/nginx.pid;"
        f" error_log {workdir}/error.log warn; events {{ worker_connections 8192; }}"
        f" http {{ access_log off; client_body_temp_path {workdir}/body;"
        f" proxy_temp_path {workdir}/proxy; fastcgi_temp_path {workdir}/fastcgi;"
        f" uwsgi_temp_path {workdir}/uwsgi; scgi_temp_path {workdir}/scgi;"
        f' server {{ listen {port} backlog=8192; location / {{ return {status} "x\\n"; }} }} }}'
    )
    return conf


def wait_http(url: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except urllib.error.HTTPError:
            return  # answering, whatever the status
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def states(db: Path) -> dict[str, int]:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            return dict(conn.execute("SELECT state, count(*) FROM check_states GROUP BY state"))
    except sqlite3.Error:
        return {}


def web_ready(port: int) -> bool:
    """Whether the agent's web plane answers (it starts a process of its own)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
            return True
    except OSError:
        return False


def receiver_stats(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=5) as answer:
        data: dict[str, float] = json.load(answer)
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=2000)
    parser.add_argument("--interval", type=float, default=2.0)
    parser.add_argument("--timeout", type=float, default=120.0, help="give up waiting after")
    args = parser.parse_args()
    base = 20000 + os.getpid() % 1000
    target_port, hook_port, web_port = base, base + 1, base + 2

    with tempfile.TemporaryDirectory(prefix="nyxmon-storm-") as tmp:
        work = Path(tmp)
        nginx = subprocess.Popen(
            [
                find_nginx(),
                "-c",
                str(nginx_conf(work / "nginx", target_port, 200)),
                "-p",
                str(work / "nginx"),
            ],
            stderr=subprocess.DEVNULL,
        )
        receiver = subprocess.Popen([sys.executable, "-c", RECEIVER, str(hook_port)])
        agent: subprocess.Popen[bytes] | None = None
        try:
            wait_http(f"http://127.0.0.1:{target_port}/")
            wait_http(f"http://127.0.0.1:{hook_port}/stats")
            db = work / "storm.db"
            config = work / "storm.yaml"
            lines = [
                f"web: {{listen: '127.0.0.1:{web_port}'}}",
                f"agent: {{database: {db}, concurrency: 500, per_host_concurrency: 500}}",
                f"defaults: {{interval: {args.interval}s, timeout: 1s,"
                " alert: {failure_threshold: 2, success_threshold: 1}}",
                "alerting:",
                "  routes:",
                f"    - {{name: hook, type: webhook, url: 'http://127.0.0.1:{hook_port}/hook'}}",
                "services:",
            ]
            for s in range(0, args.checks, 100):
                lines += [f"  - name: svc{s // 100}", "    checks:"]
                for i in range(s, min(args.checks, s + 100)):
                    url = f"http://127.0.0.{i % HOSTS + 1}:{target_port}/c{i}"
                    lines.append(f"      - {{name: c{i}, type: http, url: '{url}'}}")
            config.write_text("\n".join(lines) + "\n")
            log = (work / "agent.log").open("w")
            agent = subprocess.Popen(
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
                env={**os.environ, "NYXMON_ADMIN_PASSWORD": "bench-only-password"},
            )
            deadline = time.monotonic() + args.timeout
            while states(db).get("up", 0) < args.checks or not web_ready(web_port):
                if time.monotonic() > deadline or agent.poll() is not None:
                    raise RuntimeError(f"checks did not all come up: {states(db)}")
                time.sleep(0.2)
            time.sleep(2.0)  # the storm hits a running agent, not one still starting up

            nginx_conf(work / "nginx", target_port, 503)
            flipped = time.time()
            nginx.send_signal(signal.SIGHUP)  # reload: every answer is now 503
            while receiver_stats(hook_port)["unique"] < args.checks:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            time.sleep(2.0)  # late duplicates, if any, would arrive now
            stats = receiver_stats(hook_port)
            storm_end = stats["last"] or time.time()
        finally:
            if agent is not None:
                agent.send_signal(signal.SIGTERM)
                agent.wait(60)
            receiver.terminate()
            receiver.wait(10)
            nginx.send_signal(signal.SIGQUIT)
            nginx.wait(10)
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            lags = [
                (started - scheduled) * 1000
                for scheduled, started in conn.execute(
                    # A run of minutes: every result is still a row (packing starts an hour on).
                    "SELECT (started_ms - lag_ms) / 1000.0, started_ms / 1000.0 FROM results"
                    " WHERE started_ms - lag_ms BETWEEN ? AND ?",
                    (flipped * 1000, storm_end * 1000),
                )
            ]
            outbox = dict(conn.execute("SELECT status, count(*) FROM outbox GROUP BY status"))

    received = int(stats["unique"])
    first, last = stats["first"] or flipped, stats["last"] or flipped
    spread = max(1e-9, last - first)
    figures = {
        "checks": args.checks,
        "sent": sum(outbox.values()),
        "received_unique": received,
        "duplicates": int(stats["duplicates"]),
        "lost": args.checks - received,
        "seconds_to_last": round(last - flipped, 2),
        "seconds_first_to_last": round(spread, 2),
        "notifications_per_s": round(received / spread, 1),
        "lag_p99_ms": round(percentile(lags, 99), 1),
        "lag_p50_ms": round(percentile(lags, 50), 2),
        "outbox": outbox,
    }
    print(f"Alert storm: {args.checks} checks down at once ({machine()})")
    print(table(["figure", "value"], [[k, v] for k, v in figures.items() if k != "outbox"]))
    print(
        f"\noutbox rows by status: {outbox}; targets: 0 lost, 0 duplicates, "
        f"lag p99 within 250 ms (got {figures['lag_p99_ms']})"
    )
    emit(figures)


if __name__ == "__main__":
    main()
