"""The public status page and badges under a crowd, while the agent probes 5,000 checks.

An outage is when a status page is hammered. A real ``nyxmon run`` probes ``--checks`` HTTP
checks every ``--interval`` seconds against nginx; ``wrk`` (``--clients`` connections, two
threads) then hammers, in turn:

- a bare Starlette app on uvicorn (httptools) answering the same status page bytes from
  memory, in its own process: the anchor;
- NyxMon's public status page ``/status/public`` (HTML) and its JSON;
- a status badge of a check on that page.

Each for ``--seconds``. Figures: requests/s, latency p50/p99, errors (non-2xx/3xx, socket
errors and timeouts), the probes' start lag p99 during the hammering (from the results the
agent committed), and how old the page was at most (``generated_at`` against the clock, read
during the load). Targets (issue 12): status page and badges >= 0.5x the bare app, zero errors
and timeouts, lag p99 <= 250 ms, the page no older than its cache period plus one second.

    .venv/bin/python bench/status_page.py [--checks 5000] [--interval 5] [--seconds 10]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from _common import emit, machine, percentile, start_lags, table
from agent_throughput import HOSTS, start_nginx

PUBLIC_CHECKS = 10
CACHE_SECONDS = 10  # the status page's cache period (web.public_max_age's default)

BARE_APP = """
import sys
from pathlib import Path
import uvicorn
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

body = Path(sys.argv[2]).read_bytes()

async def page(request):
    return Response(body, media_type="text/html; charset=utf-8")

app = Starlette(routes=[Route("/status/public", page)])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), http="httptools", loop="uvloop",
            log_level="warning", access_log=False)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def write_config(path: Path, db: Path, target: int, web: int, checks: int, interval: float) -> None:
    lines = [
        "agent:",
        f"  database: {db}",
        "  concurrency: 500",
        "  per_host_concurrency: 500",
        "  shutdown_grace: 5s",
        "web:",
        f"  listen: 127.0.0.1:{web}",
        "  status_pages:",
        "    - {slug: public, title: Example status, services: [public-web, public-api]}",
        "defaults:",
        f"  interval: {interval}s",
        f"  timeout: {min(interval * 0.8, 5.0)}s",
        "services:",
    ]
    half = PUBLIC_CHECKS // 2
    groups = [("public-web", 0, half), ("public-api", half, PUBLIC_CHECKS)]
    groups += [
        (f"svc{s // 100}", s, min(checks, s + 100)) for s in range(PUBLIC_CHECKS, checks, 100)
    ]
    for name, first, last in groups:
        lines += [f"  - name: {name}", "    checks:"]
        for i in range(first, last):
            url = f"http://127.0.0.{i % HOSTS + 1}:{target}/"
            lines.append(f"      - {{name: c{i}, type: http, url: '{url}'}}")
    path.write_text("\n".join(lines) + "\n")


def wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer:\n{log.read_text()[-2000:]}") from None
            time.sleep(0.2)


def wrk(url: str, clients: int, seconds: float) -> dict[str, Any]:
    """``wrk`` against ``url``: rate, latency percentiles (ms) and every kind of error."""
    out = subprocess.run(
        ["wrk", "-t2", f"-c{clients}", f"-d{seconds:g}s", "--timeout", "2s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    latency = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", out, re.M))
    errors = 0
    if match := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out):
        errors += int(match.group(1))
    if match := re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    ):
        errors += sum(int(n) for n in match.groups())
    return {
        "rps": rate,
        "p50_ms": _ms(latency.get("50", "0ms")),
        "p99_ms": _ms(latency.get("99", "0ms")),
        "errors": errors,
    }


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


class AgeProbe(threading.Thread):
    """Reads the page's JSON every half second during the load; the oldest it saw."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.max_age = 0.0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.5):
            try:
                data = json.loads(urllib.request.urlopen(self.url, timeout=5).read())
            except OSError:
                continue
            self.max_age = max(self.max_age, time.time() - float(data["generated_at"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=5000)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each load")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--warmup", type=float, default=15.0)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench/status_page.py needs wrk: run scripts/install-system first")

    with tempfile.TemporaryDirectory(prefix="nyxmon-status-bench-") as tmp:
        work = Path(tmp)
        target = free_port()
        nginx = start_nginx(work / "nginx", target)
        web_port, bare_port = free_port(), free_port()
        db = work / "agent.db"
        config = work / "agent.yaml"
        write_config(config, db, target, web_port, args.checks, args.interval)
        log = work / "agent.log"
        agent = subprocess.Popen(
            [sys.executable, "-m", "nyxmon", "run", "-c", str(config), "--log-level", "warning"],
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            env={**os.environ, "NYXMON_ADMIN_PASSWORD": "bench-password"},
        )
        base = f"http://127.0.0.1:{web_port}"
        bare = None
        try:
            wait_http(base + "/healthz", agent, log)
            time.sleep(args.warmup)
            page = urllib.request.urlopen(base + "/status/public", timeout=30).read()
            page_file = work / "page.html"
            page_file.write_bytes(page)
            bare_log = work / "bare.log"  # kept on failure: see the exception
            bare = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    textwrap.dedent(BARE_APP),
                    str(bare_port),
                    str(work / "page.html"),
                ],
                stdout=bare_log.open("w"),
                stderr=subprocess.STDOUT,
            )
            wait_http(f"http://127.0.0.1:{bare_port}/status/public", bare, bare_log)
            badge = f"{base}/badge/public-web.c0/status.svg"
            urllib.request.urlopen(badge, timeout=10).read()
            age = AgeProbe(base + "/status/public.json")
            age.start()
            t0 = time.time()
            runs = {
                "bare Starlette, same bytes": wrk(
                    f"http://127.0.0.1:{bare_port}/status/public", args.clients, args.seconds
                ),
                "/status/public": wrk(base + "/status/public", args.clients, args.seconds),
                "/status/public.json": wrk(
                    base + "/status/public.json", args.clients, args.seconds
                ),
                "badge (status.svg)": wrk(badge, args.clients, args.seconds),
            }
            t1 = time.time()
            age.stop.set()
            time.sleep(args.interval + 1.0)  # runs due before t1 get committed
        finally:
            if bare is not None:
                bare.send_signal(signal.SIGTERM)
                bare.wait(30)
            agent.send_signal(signal.SIGTERM)
            agent.wait(60)
            nginx.terminate()
            nginx.wait(30)
        lags = start_lags(db, t0, t1)

    bare_rps = runs["bare Starlette, same bytes"]["rps"]
    rows = [
        [name, args.clients, r["rps"], r["rps"] / bare_rps, r["p50_ms"], r["p99_ms"], r["errors"]]
        for name, r in runs.items()
    ]
    scenario = f"{args.checks} checks every {args.interval:g} s"
    print(f"Status page and badges under a crowd: {scenario} ({machine()})")
    print(table(["requests", "clients", "req/s", "vs bare", "p50 ms", "p99 ms", "errors"], rows))
    lag_p99 = percentile(lags, 99)
    status = runs["/status/public"]
    badge_run = runs["badge (status.svg)"]
    errors = sum(r["errors"] for r in runs.values())
    print(
        f"\nprobe start lag during the load: p99 {lag_p99:.1f} ms over {len(lags):,} runs; "
        f"oldest page seen: {age.max_age:.1f} s (cache period {CACHE_SECONDS} s)"
    )
    print(
        f"targets: status and badge >= 0.5x bare (got {status['rps'] / bare_rps:.2f}x, "
        f"{badge_run['rps'] / bare_rps:.2f}x), 0 errors (got {errors}), lag p99 <= 250 ms "
        f"(got {lag_p99:.1f})"
    )
    emit(
        {
            "checks": args.checks,
            "clients": args.clients,
            "status_rps": round(status["rps"], 1),
            "status_json_rps": round(runs["/status/public.json"]["rps"], 1),
            "bare_rps": round(bare_rps, 1),
            "badge_rps": round(badge_run["rps"], 1),
            "status_vs_bare": round(status["rps"] / bare_rps, 3),
            "badge_vs_bare": round(badge_run["rps"] / bare_rps, 3),
            "status_p99_ms": status["p99_ms"],
            "errors": errors,
            "lag_p99_ms": round(lag_p99, 2),
            "lag_runs": len(lags),
            "page_max_age_s": round(age.max_age, 2),
        }
    )


if __name__ == "__main__":
    main()
