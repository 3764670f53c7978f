"""The dashboard with 5,000 checks while the agent runs 1,000 probes/s (issue 7's targets).

A real ``nyxmon run`` process probes ``--checks`` HTTP checks every ``--interval`` s against
nginx on loopback (5,000 / 5 s = 1,000 probes/s) and serves its web plane. Once every check has
results, a signed-in client measures:

- the overview's first page (``GET /``: 200 rows grouped by service; target < 1 s), the
  first request (the shared live view built from scratch) and warm ones; a search, the next
  page, and the beats of one screen (40 rows) and of a whole page (200 rows);
- the same page in chromium (Playwright), navigation to DOMContentLoaded and to the first
  beats drawn, when chromium is installed;
- the live stream: for ``--sse-seconds`` s, each status in each ``/events`` message against
  the end of the result it reports (received - (started_at + duration)); target < 1 s.

Needs nginx (scripts/install-system).

    .venv/bin/python bench/dashboard.py [--checks 5000] [--interval 5] [--sse-seconds 15]
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
import time
import urllib.request
from pathlib import Path
from typing import Any

import requests

from _common import emit, machine, percentile, table
from agent_throughput import HOSTS, start_nginx
from nyxmon.store.sqlite import SqliteStore

PASSWORD = "bench-password-123"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(path: Path, db: Path, target: int, web: int, checks: int, interval: float) -> None:
    lines = [
        "agent:",
        f"  database: {db}",
        "  concurrency: 500",
        "  per_host_concurrency: 500",
        "  shutdown_grace: 5s",
        "web:",
        f"  listen: 127.0.0.1:{web}",
        "defaults:",
        f"  interval: {interval}s",
        f"  timeout: {min(interval * 0.8, 5.0)}s",
        "services:",
    ]
    for s in range(0, checks, 100):
        lines += [f"  - name: svc{s // 100:03d}", "    checks:"]
        for i in range(s, min(checks, s + 100)):
            url = f"http://127.0.0.{i % HOSTS + 1}:{target}/"
            labels = "{tier: front}" if i % 10 == 0 else "{tier: back}"
            lines.append(f"      - {{name: c{i}, type: http, url: '{url}', labels: {labels}}}")
    path.write_text("\n".join(lines) + "\n")


def start_agent(workdir: Path, config: Path, base: str) -> subprocess.Popen[bytes]:
    log = (workdir / "agent.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "nyxmon", "run", "-c", str(config), "--log-level", "warning"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "NYXMON_ADMIN_PASSWORD": PASSWORD},
    )
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(base + "/healthz", timeout=2).read()
            return proc
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the agent did not start; see {log.name}") from None
            time.sleep(0.2)


def sign_in(base: str) -> requests.Session:
    session = requests.Session()
    form = session.get(base + "/login", timeout=30).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token is not None
    answer = session.post(
        base + "/login",
        data={"username": "admin", "password": PASSWORD, "csrf_token": token.group(1)},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 303, answer.text
    return session


def timed(session: requests.Session, url: str, **kwargs: Any) -> tuple[float, requests.Response]:
    began = time.perf_counter()
    answer = session.get(url, timeout=60, **kwargs)
    elapsed = (time.perf_counter() - began) * 1000
    answer.raise_for_status()
    return elapsed, answer


def row_ids(html: str) -> list[str]:
    return re.findall(r'<tr id="live-([^"]+)" data-check=', html)


def page_figures(session: requests.Session, base: str, repeat: int) -> dict[str, Any]:
    cold, first = timed(session, base + "/")
    ids = row_ids(first.text)
    assert len(ids) == 200, f"expected 200 rows on the first page, got {len(ids)}"
    warm = [timed(session, base + "/")[0] for _ in range(repeat)]
    search = [timed(session, base + "/overview/rows?q=c12")[0] for _ in range(repeat)]
    label = [timed(session, base + "/overview/rows?label=tier%3Dfront")[0] for _ in range(repeat)]
    more = [timed(session, base + "/overview/rows?offset=200")[0] for _ in range(repeat)]
    screen = [ids[:40]] * repeat
    beats40 = [timed(session, base + "/overview/beats", params={"id": b})[0] for b in screen]
    beats200 = [
        timed(session, base + "/overview/beats", params={"id": ids})[0] for _ in range(repeat)
    ]
    return {
        "first_page_bytes": len(first.content),
        "first_page_cold_ms": cold,
        "first_page_p50_ms": percentile(warm, 50),
        "first_page_p95_ms": percentile(warm, 95),
        "first_page_max_ms": max(warm),
        "search_p50_ms": percentile(search, 50),
        "label_filter_p50_ms": percentile(label, 50),
        "next_page_p50_ms": percentile(more, 50),
        "beats_40_p50_ms": percentile(beats40, 50),
        "beats_200_p50_ms": percentile(beats200, 50),
        "beats_200_max_ms": max(beats200),
    }


def browser_figures(base: str) -> dict[str, Any]:
    executable = shutil.which("chromium")
    if executable is None:
        return {}
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=executable, args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.goto(base + "/login")
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(base + "/")
        times = []
        beats = []
        for _ in range(3):
            began = time.perf_counter()
            page.goto(base + "/", wait_until="domcontentloaded")
            times.append((time.perf_counter() - began) * 1000)
            page.wait_for_selector("[data-beats] .b-u", timeout=30_000)
            beats.append((time.perf_counter() - began) * 1000)
        browser.close()
    return {"browser_domcontentloaded_ms": min(times), "browser_first_beats_ms": min(beats)}


def sse_figures(session: requests.Session, base: str, seconds: float) -> dict[str, Any]:
    delays: list[float] = []
    events = 0
    checks_seen: set[str] = set()
    stop = time.monotonic() + seconds

    with session.get(base + "/events", stream=True, timeout=(10, 60)) as stream:
        data = ""
        for raw in stream.iter_lines(decode_unicode=True):
            received = time.time()
            if raw.startswith("data: "):
                data = raw[6:]
            elif raw == "" and data:
                message = json.loads(data)
                data = ""
                events += 1
                for item in message["checks"]:
                    at, took = item.get("last_result_at"), item.get("last_duration") or 0.0
                    if at:
                        delays.append((received - (at + took)) * 1000)
                        checks_seen.add(item["id"])
            if time.monotonic() > stop:
                break
    return {
        "sse_events": events,
        "sse_events_per_s": events / seconds,
        "sse_updates_per_s": len(delays) / seconds,
        "sse_checks_seen": len(checks_seen),
        "sse_delay_p50_ms": percentile(delays, 50),
        "sse_delay_p95_ms": percentile(delays, 95),
        "sse_delay_p99_ms": percentile(delays, 99),
        "sse_delay_max_ms": max(delays) if delays else 0.0,
    }


def probes_per_s(db: Path, t0: float, t1: float) -> float:
    with SqliteStore(db, readonly=True) as store:
        count = store.count_results(since=t0, until=t1)
    return float(count) / (t1 - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=5000)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=15.0, help="seconds before measuring")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--sse-seconds", type=float, default=15.0)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--sse-client", metavar="BASE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sse_client:
        base = args.sse_client
        print(json.dumps(sse_figures(sign_in(base), base, args.sse_seconds)))
        return

    workdir = Path(tempfile.mkdtemp(prefix="nyxmon-dashboard-"))
    target_port, web_port = free_port(), free_port()
    base = f"http://127.0.0.1:{web_port}"
    nginx = start_nginx(workdir / "nginx", target_port)
    agent = None
    try:
        config = workdir / "nyxmon.yaml"
        db = workdir / "nyxmon.db"
        write_config(config, db, target_port, web_port, args.checks, args.interval)
        agent = start_agent(workdir, config, base)
        time.sleep(args.warmup)
        idle = time.time()
        time.sleep(10.0)  # the agent alone, for comparison
        figures: dict[str, Any] = {"checks": args.checks, "interval_s": args.interval}
        session = sign_in(base)
        t0 = time.time()
        # The stream is read in a process of its own, so the page client's work and the
        # browser do not delay its reading (2 CPUs here).
        client = [sys.executable, __file__, "--sse-client", base]
        sse = subprocess.Popen(
            [*client, "--sse-seconds", str(args.sse_seconds)],
            stdout=subprocess.PIPE,
            text=True,
        )
        figures.update(page_figures(session, base, args.repeat))
        if not args.no_browser:
            figures.update(browser_figures(base))
        out, _ = sse.communicate(timeout=args.sse_seconds + 120)
        figures.update(json.loads(out.strip().splitlines()[-1]))
        t1 = time.time()
        time.sleep(args.interval)  # results of runs started before t1 are committed
        figures["probes_per_s_idle_web"] = probes_per_s(db, idle, idle + 10.0)
        figures["probes_per_s_during"] = probes_per_s(db, t0, t1)
        figures.update(machine())
    finally:
        if agent is not None:
            agent.send_signal(signal.SIGTERM)
            agent.wait(60)
        nginx.send_signal(signal.SIGTERM)
        nginx.wait(10)
    rows = [(k, v) for k, v in figures.items() if isinstance(v, int | float)]
    print(table(["figure", "value"], rows))
    emit(figures)
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
