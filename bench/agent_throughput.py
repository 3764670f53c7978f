"""Agent throughput against a fast local target (nginx), with the raw limit measured alongside.

Scenario 1 (issue 5's target): ``--checks`` HTTP checks every ``--interval`` seconds for
``--seconds``, run by a real ``nyxmon run`` process. From the rows it committed: due runs vs
done runs in the window, p99 start lag (started_at - scheduled_at); from /proc: its peak RSS.
Targets: >= 99% of due runs done, lag p99 <= 250 ms, RSS <= 150 MB.

Scenario 2 (flat out): so many 1 s checks that the agent can never catch up, at concurrency
``--concurrency``; its probes/s vs the raw limit: a plain aiohttp client (fresh connection per
request, uvloop, the same concurrency) in its own process against the same nginx.
Target: agent >= 0.6x raw.

This machine's speed drifts by 10-30% within a minute (other tenants), more than the effect
being measured, so the flat-out scenario interleaves the two: one agent process runs
throughout, and in each of ``--rounds`` rounds it is frozen (SIGSTOP) while the raw client
runs, then thawed and counted for ``--flat-seconds`` (after a second to settle). Each round's
ratio is the agent's rate over the mean of the raw rates just before and after it; the figure
is the median round. Freezing a process costs it nothing but wall time: timers that fell due
meanwhile fire late, and the settling second keeps that out of the count.

The checks spread over 50 loopback addresses (127.0.0.1-50) like 50 hosts; nginx listens on
all of them with one worker. Needs nginx: ``scripts/install-system``.

    .venv/bin/python bench/agent_throughput.py [--checks 5000] [--interval 5] [--seconds 60]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

from _common import emit, machine, percentile, table
from nyxmon.agent.scheduler import phase_of

HOSTS = 50
REPO = Path(__file__).resolve().parents[1]


def find_nginx() -> str:
    path = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "")
    if not path:
        sys.exit("bench/agent_throughput.py needs nginx: run scripts/install-system first")
    return path


def start_nginx(workdir: Path, port: int) -> subprocess.Popen[bytes]:
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (workdir / sub).mkdir(parents=True, exist_ok=True)
    os.chmod(workdir, 0o777)
    conf = workdir / "nginx.conf"
    conf.write_text(
        textwrap.dedent(f"""\
        worker_processes 1;
        daemon off;
        pid {workdir}/nginx.pid;
        error_log {workdir}/error.log warn;
        events {{ worker_connections 8192; }}
        http {{
            access_log off;
            client_body_temp_path {workdir}/body;
            proxy_temp_path {workdir}/proxy;
            fastcgi_temp_path {workdir}/fastcgi;
            uwsgi_temp_path {workdir}/uwsgi;
            scgi_temp_path {workdir}/scgi;
            keepalive_requests 100000;
            server {{
                listen {port} backlog=8192;
                location / {{ return 200 "ok\\n"; }}
            }}
        }}
    """)
    )
    proc = subprocess.Popen(
        [find_nginx(), "-c", str(conf), "-p", str(workdir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 10
    import urllib.request

    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1).read()
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"nginx did not start: {proc.stderr.read() if proc.stderr else ''}")


def write_config(
    path: Path, db: Path, port: int, checks: int, interval: float, concurrency: int
) -> None:
    lines = [
        "agent:",
        f"  database: {db}",
        f"  concurrency: {concurrency}",
        f"  per_host_concurrency: {concurrency}",
        "  shutdown_grace: 5s",
        # The dashboard runs (idle) as it does for users, on a port next to nginx's.
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


class RssSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kb = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.2):
            try:
                for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        self.peak_kb = max(self.peak_kb, int(line.split()[1]))
            except FileNotFoundError:
                return


def start_agent(
    workdir: Path, port: int, checks: int, interval: float, concurrency: int
) -> tuple[subprocess.Popen[bytes], Path, Any]:
    db = workdir / f"agent-{checks}-{interval}.db"
    config = workdir / f"agent-{checks}-{interval}.yaml"
    write_config(config, db, port, checks, interval, concurrency)
    log = (workdir / f"agent-{checks}-{interval}.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "nyxmon", "run", "--config", str(config), "--log-level", "warning"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return proc, db, log


def stop_agent(proc: subprocess.Popen[bytes], log: Any) -> None:
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(60)
    log.close()
    if code != 0:
        raise RuntimeError(f"agent exited with {code}; see {log.name}")


def run_flat_out(
    workdir: Path,
    port: int,
    checks: int,
    concurrency: int,
    rounds: int,
    seconds: float,
    raw_seconds: float,
) -> dict[str, Any]:
    """Agent and raw client taken in turns (see the module docstring)."""
    proc, db, log = start_agent(workdir, port, checks, 1.0, concurrency)
    sampler = RssSampler(proc.pid)
    sampler.start()
    windows: list[tuple[float, float]] = []
    raws: list[float] = []
    try:
        time.sleep(5.0)  # start-up and first runs

        def raw_while_frozen() -> None:
            os.kill(proc.pid, signal.SIGSTOP)
            try:
                raws.append(raw_limit(port, concurrency, raw_seconds))
            finally:
                os.kill(proc.pid, signal.SIGCONT)

        for _ in range(rounds):
            raw_while_frozen()
            time.sleep(1.0)
            t0 = time.time()
            time.sleep(seconds)
            windows.append((t0, time.time()))
        raw_while_frozen()
    finally:
        stop_agent(proc, log)
        sampler.stop.set()

    from nyxmon.store.sqlite import SqliteStore

    rates = []
    with SqliteStore(db, readonly=True) as store:
        for t0, t1 in windows:
            rates.append(store.count_results(since=t0, until=t1) / (t1 - t0))
    ratios = [rate / ((raws[i] + raws[i + 1]) / 2) for i, rate in enumerate(rates)]
    return {
        "probes_per_s": statistics.median(rates),
        "raw_per_s": statistics.median(raws),
        "ratio": statistics.median(ratios),
        "ratios": ratios,
        "rates": rates,
        "raws": raws,
        "rss_mb": sampler.peak_kb / 1024,
    }


def run_agent(
    workdir: Path,
    port: int,
    checks: int,
    interval: float,
    concurrency: int,
    warmup: float,
    seconds: float,
) -> dict[str, float]:
    proc, db, log = start_agent(workdir, port, checks, interval, concurrency)
    sampler = RssSampler(proc.pid)
    sampler.start()
    try:
        time.sleep(warmup)
        t0 = time.time()
        time.sleep(seconds)
        t1 = time.time()
        time.sleep(min(interval, 5.0) + 1.0)  # runs due before t1 finish and get written
    finally:
        stop_agent(proc, log)
        sampler.stop.set()
    import sqlite3

    with sqlite3.connect(db) as conn:
        # A run of minutes: every result is still a row (packing starts an hour on).
        rows = conn.execute(
            "SELECT (started_ms - lag_ms) / 1000.0, started_ms / 1000.0 FROM results"
            " WHERE started_ms - lag_ms >= ? AND started_ms - lag_ms < ?",
            (t0 * 1000, t1 * 1000),
        ).fetchall()
        ids = [r[0] for r in conn.execute("SELECT id FROM checks WHERE archived_at IS NULL")]
    due = 0
    for check_id in ids:
        phase = phase_of(check_id) * interval
        first = t0 + ((phase - t0) % interval)
        if first < t1:
            due += int((t1 - first) // interval) + 1
    lags = [max(0.0, started - scheduled) * 1000 for scheduled, started in rows]
    return {
        "due": float(due),
        "done": float(len(rows)),
        "done_ratio": len(rows) / due if due else 0.0,
        "lag_p50_ms": percentile(lags, 50),
        "lag_p99_ms": percentile(lags, 99),
        "rss_mb": sampler.peak_kb / 1024,
        "probes_per_s": len(rows) / (t1 - t0),
    }


RAW_CLIENT = """
import asyncio, socket, struct, sys, time, aiohttp, uvloop
port, concurrency, hosts = (int(a) for a in sys.argv[1:4])
seconds = float(sys.argv[4])
async def main():
    done = 0
    stop = time.perf_counter() + seconds
    # One session whose connector never reuses a connection: a fresh TCP connect per request,
    # the cheapest way plain aiohttp can do what the probes do; closing with RST like the
    # probes do, so neither side of the comparison leaves TIME_WAIT sockets to the other.
    def rst_socket(info):
        sock = socket.socket(info[0], info[1], info[2])
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        return sock
    conn = aiohttp.TCPConnector(force_close=True, limit=0, socket_factory=rst_socket)
    async with aiohttp.ClientSession(connector=conn) as session:
        async def worker(n):
            nonlocal done
            url = f"http://127.0.0.{n % hosts + 1}:{port}/"
            while time.perf_counter() < stop:
                async with session.get(url) as r:
                    await r.read()
                done += 1
        t = time.perf_counter()
        await asyncio.gather(*(worker(n) for n in range(concurrency)))
        print(done / (time.perf_counter() - t))
uvloop.run(main())
"""


def raw_limit(port: int, concurrency: int, seconds: float) -> float:
    out = subprocess.run(
        [sys.executable, "-c", RAW_CLIENT, str(port), str(concurrency), str(HOSTS), str(seconds)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=5000)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument(
        "--concurrency",
        type=int,
        default=100,
        help="flat-out mode: agent and raw client concurrency",
    )
    parser.add_argument("--flat-checks", type=int, default=5000)
    parser.add_argument(
        "--flat-seconds", type=float, default=8.0, help="flat-out mode: agent seconds per round"
    )
    parser.add_argument("--rounds", type=int, default=7, help="flat-out mode: agent/raw rounds")
    parser.add_argument(
        "--raw-seconds", type=float, default=4.0, help="flat-out mode: raw seconds per turn"
    )
    args = parser.parse_args()
    port = 18080 + os.getpid() % 1000

    with tempfile.TemporaryDirectory(prefix="nyxmon-bench-") as tmp:
        workdir = Path(tmp)
        nginx = start_nginx(workdir / "nginx", port)
        try:
            target = run_agent(
                workdir,
                port,
                args.checks,
                args.interval,
                500,
                warmup=args.interval + 3,
                seconds=args.seconds,
            )
            flat = run_flat_out(
                workdir,
                port,
                args.flat_checks,
                args.concurrency,
                args.rounds,
                args.flat_seconds,
                args.raw_seconds,
            )
        finally:
            nginx.send_signal(signal.SIGQUIT)
            nginx.wait(10)
    print(f"NyxMon agent vs nginx on loopback ({machine()})")
    print(
        table(
            ["scenario", "due", "done", "done %", "lag p50 ms", "lag p99 ms", "RSS MB", "probes/s"],
            [
                [
                    f"{args.checks} checks / {args.interval:g}s for {args.seconds:g}s",
                    int(target["due"]),
                    int(target["done"]),
                    target["done_ratio"] * 100,
                    target["lag_p50_ms"],
                    target["lag_p99_ms"],
                    target["rss_mb"],
                    target["probes_per_s"],
                ],
            ],
        )
    )
    print(
        f"\nflat out: {args.flat_checks} checks every 1 s, concurrency {args.concurrency}, "
        f"{args.rounds} rounds of {args.flat_seconds:g} s agent / {args.raw_seconds:g} s raw"
    )
    print(
        table(
            ["round", "raw before /s", "agent /s", "raw after /s", "agent / raw"],
            [
                [i + 1, flat["raws"][i], rate, flat["raws"][i + 1], flat["ratios"][i]]
                for i, rate in enumerate(flat["rates"])
            ],
        )
    )
    ratio = flat["ratio"]
    print(
        f"\ntargets: done >= 99% (got {target['done_ratio'] * 100:.2f}%), lag p99 <= 250 ms "
        f"(got {target['lag_p99_ms']:.1f}), RSS <= 150 MB (got {target['rss_mb']:.0f}), "
        f"flat-out >= 0.6x raw (median round: {ratio:.2f}x)"
    )
    emit(
        {
            "checks": args.checks,
            "interval_s": args.interval,
            "seconds": args.seconds,
            "due": int(target["due"]),
            "done": int(target["done"]),
            "done_ratio": round(target["done_ratio"], 4),
            "lag_p50_ms": round(target["lag_p50_ms"], 2),
            "lag_p99_ms": round(target["lag_p99_ms"], 2),
            "rss_mb": round(target["rss_mb"], 1),
            "agent_probes_per_s": round(flat["probes_per_s"], 1),
            "raw_probes_per_s": round(flat["raw_per_s"], 1),
            "agent_vs_raw": round(ratio, 3),
            "agent_vs_raw_rounds": [round(r, 3) for r in flat["ratios"]],
            "flat_rss_mb": round(flat["rss_mb"], 1),
            "concurrency": args.concurrency,
        }
    )


if __name__ == "__main__":
    main()
