"""Push checks under load: 10,000 push checks pinged as fast as another process can for 30 s,
while 2,000 HTTP checks run every 5 s against a local nginx, through a real ``nyxmon run``
(its web plane in a process of its own, pings reaching the agent over the control socket).

Figures:

- ``pings_per_s``: pings answered ``200`` per second; each ``200`` means durable (the web plane
  answers once the agent's batch holding the ping committed);
- ``bare_rps``: the same client against a bare Starlette app (uvicorn + httptools, one
  process, no storage) answering the same request, measured in the same run beside the same
  running agent; target ``pings_per_s >= 0.3 x bare_rps``;
- ``ping_p99_ms``: p99 of the client's request latency;
- ``lost``: pings answered ``200`` minus ping results found in the database afterwards (0);
- ``late_alerts``: silent push checks (pinged once, then never) whose DOWN notice reached the
  webhook receiver more than 1 s after their deadline (the ``deadline`` the agent recorded),
  or never (0);
- ``lag_p99_ms``: the HTTP checks' probe start lag p99 during the ping phase (<= 250 ms).

    .venv/bin/python bench/push.py [--push 10000] [--http 2000] [--seconds 30]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from _common import emit, machine, percentile, table
from agent_throughput import HOSTS, find_nginx
from alert_storm import nginx_conf, wait_http, web_ready

SILENT = 40

RECEIVER = r"""
import json, sys, time
from aiohttp import web
arrived = {}
async def hook(request):
    data = await request.json()
    now = time.time()
    if data.get("kind") == "down":
        arrived.setdefault(data["check"]["id"], [now, data["at"]])
    return web.Response(text="ok")
async def stats(request):
    return web.json_response(arrived)
app = web.Application()
app.router.add_post("/hook", hook)
app.router.add_get("/stats", stats)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""

BARE = r"""
import sys, uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
async def ping(request):
    await request.body()
    return PlainTextResponse("OK\n")
app = Starlette(routes=[Route("/ping/{key}", ping, methods=["GET", "POST", "HEAD"])])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), http="httptools",
            log_level="warning", access_log=False)
"""

CLIENT = r"""
import asyncio, json, random, sys, time, aiohttp, uvloop
port, concurrency, keys = (int(a) for a in sys.argv[1:4])
seconds = float(sys.argv[4])
async def main():
    ok = failed = 0
    latencies = []
    per_key = [0] * keys
    conn = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=conn) as session:
        stop = time.perf_counter() + seconds
        async def worker(n):
            nonlocal ok, failed
            rng = random.Random(n)
            while time.perf_counter() < stop:
                k = rng.randrange(keys)
                t = time.perf_counter()
                try:
                    async with session.get(f"http://127.0.0.1:{port}/ping/load-key-{k:05d}") as r:
                        await r.read()
                        status = r.status
                except aiohttp.ClientError:
                    status = 0
                latencies.append(time.perf_counter() - t)
                if status == 200:
                    ok += 1
                    per_key[k] += 1
                else:
                    failed += 1
        t = time.perf_counter()
        await asyncio.gather(*(worker(n) for n in range(concurrency)))
        elapsed = time.perf_counter() - t
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1] if latencies else 0.0
    print(json.dumps({"ok": ok, "failed": failed, "rps": ok / elapsed, "p99": p99,
                      "p50": latencies[len(latencies) // 2] if latencies else 0.0,
                      "per_key": per_key}))
uvloop.run(main())
"""


def run_client(port: int, concurrency: int, keys: int, seconds: float) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", CLIENT, str(port), str(concurrency), str(keys), str(seconds)],
        capture_output=True,
        text=True,
        check=True,
    )
    data: dict[str, object] = json.loads(out.stdout)
    return data


def write_config(
    path: Path, db: Path, *, push: int, http: int, target: int, hook: int, web: int
) -> None:
    lines = [
        f"web: {{listen: '127.0.0.1:{web}'}}",
        f"agent: {{database: {db}, concurrency: 500, per_host_concurrency: 500}}",
        "defaults: {interval: 5s, timeout: 2s}",
        "alerting:",
        "  routes:",
        f"    - {{name: hook, type: webhook, url: 'http://127.0.0.1:{hook}/hook',"
        " match: {services: [silent]}}",
        "services:",
    ]
    for s in range(0, http, 100):
        lines += [f"  - name: web{s // 100}", "    checks:"]
        for i in range(s, min(http, s + 100)):
            url = f"http://127.0.0.{i % HOSTS + 1}:{target}/c{i}"
            lines.append(f"      - {{name: c{i}, type: http, url: '{url}'}}")
    for s in range(0, push, 500):
        lines += [f"  - name: jobs{s // 500}", "    checks:"]
        for i in range(s, min(push, s + 500)):
            lines.append(
                f"      - {{name: j{i}, type: push, token: load-key-{i:05d}, interval: 1h}}"
            )
    lines += ["  - name: silent", "    checks:"]
    for i in range(SILENT):
        # Deadlines spread over the load phase: 8-17 s after their one ping, grace 1 s.
        lines.append(
            f"      - {{name: s{i}, type: push, token: silent-key-{i:03d},"
            f" interval: {7 + i % 10}s, grace: 1s}}"
        )
    path.write_text("\n".join(lines) + "\n")


def http_lags(db: Path, t0: float, t1: float) -> list[float]:
    """Start lags (ms) of the HTTP checks' runs due in [t0, t1), through the store."""
    from nyxmon.store.sqlite import SqliteStore

    lags: list[float] = []
    with SqliteStore(str(db), readonly=True) as store:
        for check in store.list_checks().items:
            if check.type != "http":
                continue
            page = store.results(check.id, since=t0 - 10, until=t1 + 10, limit=1000)
            lags.extend(
                s.result.start_lag * 1000 for s in page.items if t0 <= s.result.scheduled_at < t1
            )
    return lags


def stored_pings(db: Path, push: int, t0: float, t1: float) -> tuple[int, list[tuple[str, float]]]:
    """(success pings stored for the load checks, (check id, deadline) of every missed
    deadline of the silent checks), through the store."""
    from nyxmon.store.sqlite import SqliteStore

    pings = 0
    missed: list[tuple[str, float]] = []
    with SqliteStore(str(db), readonly=True) as store:
        for check in store.list_checks().items:
            if check.type != "push":
                continue
            if check.service == "silent":
                page = store.results(check.id, limit=1000)
                missed += [
                    (check.id, float(s.result.details["deadline"]))
                    for s in page.items
                    if s.result.details.get("ping") == "missed"
                ]
            else:
                pings += store.count_results(check.id, since=t0 - 5, until=t1 + 60)
    return pings, missed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--push", type=int, default=10_000)
    parser.add_argument("--http", type=int, default=2_000)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--bare-seconds", type=float, default=15.0)
    parser.add_argument("--clients", type=int, default=64, help="requests in flight")
    args = parser.parse_args()
    base = 21000 + os.getpid() % 1000
    target_port, hook_port, web_port, bare_port = base, base + 1, base + 2, base + 3

    with tempfile.TemporaryDirectory(prefix="nyxmon-push-") as tmp:
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
        bare = subprocess.Popen([sys.executable, "-c", BARE, str(bare_port)])
        agent: subprocess.Popen[bytes] | None = None
        try:
            wait_http(f"http://127.0.0.1:{target_port}/")
            wait_http(f"http://127.0.0.1:{hook_port}/stats")
            wait_http(f"http://127.0.0.1:{bare_port}/ping/x")
            db = work / "push.db"
            config = work / "push.yaml"
            write_config(
                config,
                db,
                push=args.push,
                http=args.http,
                target=target_port,
                hook=hook_port,
                web=web_port,
            )
            log = (work / "agent.log").open("w")
            started = time.monotonic()
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
            while not web_ready(web_port):
                if time.monotonic() - started > 180 or agent.poll() is not None:
                    raise RuntimeError(
                        "the agent did not start: " + (work / "agent.log").read_text()[-2000:]
                    )
                time.sleep(0.2)
            startup = time.monotonic() - started
            time.sleep(5.0)  # every HTTP check has run once: the load meets a settled agent

            # The anchor, beside the same running agent.
            bare_figures = run_client(bare_port, args.clients, args.push, args.bare_seconds)

            # Silent checks: one ping each, then silence; their deadlines fall in the load.
            pinged: dict[str, float] = {}
            for i in range(SILENT):
                pinged[f"silent.s{i}"] = time.time()
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{web_port}/ping/silent-key-{i:03d}", timeout=10
                ) as answer:
                    assert answer.status == 200
            t0 = time.time()
            ping_figures = run_client(web_port, args.clients, args.push, args.seconds)
            t1 = time.time()
            time.sleep(3.0)  # the last deadlines' notices arrive
            observed = time.time() - 1.5  # a deadline before this must have been alerted
            time.time() - 1.5  # a deadline before this must have been alerted
            with urllib.request.urlopen(f"http://127.0.0.1:{hook_port}/stats", timeout=5) as r:
                received: dict[str, list[float]] = json.load(r)
            arrived = {cid: times[0] for cid, times in received.items()}
            decided = {cid: times[1] for cid, times in received.items()}
        finally:
            if agent is not None:
                agent.send_signal(signal.SIGTERM)
                agent.wait(120)
            for process in (receiver, bare):
                process.terminate()
                process.wait(10)
            nginx.send_signal(signal.SIGQUIT)
            nginx.wait(10)
        stored, missed = stored_pings(db, args.push, t0, t1)
        lags = http_lags(db, t0, t1)

    ok = int(ping_figures["ok"])  # type: ignore[call-overload]
    first_missed: dict[str, float] = {}
    for check_id, deadline in sorted(missed, key=lambda m: m[1]):
        first_missed.setdefault(check_id, deadline)
    delays = {
        cid: arrived[cid] - deadline for cid, deadline in first_missed.items() if cid in arrived
    }
    # Due: every silent check whose deadline (its one ping + interval + 1 s grace, or what the
    # agent recorded) passed while we watched; late: alerted after 1 s, or not at all.
    due = [
        cid
        for i, cid in ((i, f"silent.s{i}") for i in range(SILENT))
        if first_missed.get(cid, pinged[cid] + 7 + i % 10 + 1) < observed
    ]
    late = sum(1 for cid in due if delays.get(cid, math.inf) > 1.0)
    # Where an alert's time went: deciding (the timer, the dispatcher) and delivering (the
    # commit, the notifier, the receiver).
    deciding = [decided[cid] - first_missed[cid] for cid in delays]
    delivering = [arrived[cid] - decided[cid] for cid in delays]
    figures = {
        "push_checks": args.push,
        "http_checks": args.http,
        "pings_per_s": round(float(ping_figures["rps"]), 1),  # type: ignore[arg-type]
        "bare_rps": round(float(bare_figures["rps"]), 1),  # type: ignore[arg-type]
        "ratio": round(float(ping_figures["rps"]) / float(bare_figures["rps"]), 3),  # type: ignore[arg-type]
        "ping_p50_ms": round(float(ping_figures["p50"]) * 1000, 2),  # type: ignore[arg-type]
        "ping_p99_ms": round(float(ping_figures["p99"]) * 1000, 2),  # type: ignore[arg-type]
        "pings_ok": ok,
        "pings_failed": int(ping_figures["failed"]),  # type: ignore[call-overload]
        "pings_stored": stored,
        "lost": ok - stored,
        "silent_checks": SILENT,
        "deadlines_due": len(due),
        "alerted": len(delays),
        "alert_delay_max_s": round(max(delays.values(), default=0.0), 3),
        "late_alerts": late,
        "decide_max_s": round(max(deciding, default=0.0), 3),
        "deliver_max_s": round(max(delivering, default=0.0), 3),
        "lag_p99_ms": round(percentile(lags, 99), 1),
        "lag_p50_ms": round(percentile(lags, 50), 2),
        "startup_s": round(startup, 1),
    }
    print(
        f"Push checks: {args.push} pinged for {args.seconds:g} s beside {args.http} HTTP checks"
        f" ({machine()})"
    )
    print(table(["figure", "value"], [[k, v] for k, v in figures.items()]))
    print(
        f"\ntargets: pings_per_s >= 0.3 x bare_rps (got {figures['ratio']}x), lost 0, "
        f"late_alerts 0, lag p99 <= 250 ms (got {figures['lag_p99_ms']})"
    )
    emit(figures)


if __name__ == "__main__":
    main()
