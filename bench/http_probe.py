"""HTTP probe cost: NyxMon's http executor vs raw aiohttp vs raw pycurl against nginx.

Three clients do the same thing flat out for ``--seconds``: GET ``http://127.0.0.1:PORT/`` on a
fresh connection per request (closed with RST, so neither leaves TIME_WAIT sockets to the
others), ``--concurrency`` requests at a time, on uvloop, each in a process of its own:

- ``nyxmon``: ``ProbeRunner.run`` of ``http`` checks (one per worker), so the figure includes
  everything the probe layer does per run: the executor's timeout, parsing the answer, judging
  the status, building the result;
- ``aiohttp``: a plain aiohttp session whose connector never reuses a connection (the raw
  client of ``bench/agent_throughput.py``, which the agent used to be built on);
- ``pycurl``: a bare CurlMulti driven from the loop with no probe around it: the floor of
  what libcurl costs here.

CPU is the client process's (all threads) per request. This machine's speed drifts by 10-30%
within a minute, so the clients take turns for ``--rounds`` rounds and each figure is the
median round. Needs nginx (``scripts/install-system``).

    .venv/bin/python bench/http_probe.py [--seconds 5] [--rounds 3] [--concurrency 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import emit, machine, table
from agent_throughput import start_nginx

CLIENTS = ("nyxmon", "aiohttp", "pycurl")
LINGER_ZERO = struct.pack("ii", 1, 0)


async def flat_out(
    request: Any, concurrency: int, warmup: float, seconds: float
) -> dict[str, float]:
    """Run ``request(worker)`` in ``concurrency`` workers; count the ``seconds`` after warm-up."""
    done = 0
    counting = False
    stop = time.perf_counter() + warmup + seconds

    async def worker(index: int) -> None:
        nonlocal done
        while time.perf_counter() < stop:
            await request(index)
            done += counting

    async def clock() -> tuple[float, float, int]:
        nonlocal counting
        await asyncio.sleep(warmup)
        counting = True
        return time.perf_counter(), time.process_time(), done

    started = asyncio.ensure_future(clock())
    await asyncio.gather(*(worker(index) for index in range(concurrency)))
    wall0, cpu0, _ = await started
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return {"rate": done / wall, "cpu_us": cpu / max(done, 1) * 1e6, "requests": done}


async def run_nyxmon(url: str, concurrency: int, warmup: float, seconds: float) -> dict[str, float]:
    from nyxmon.domain.model import Check
    from nyxmon.probes.registry import builtin_registry
    from nyxmon.probes.runner import ProbeRunner

    runner = ProbeRunner(builtin_registry())
    checks = [
        Check(f"bench.c{i}", "bench", f"c{i}", "http", 1.0, 5.0, params={"url": url})
        for i in range(concurrency)
    ]

    async def request(index: int) -> None:
        result = await runner.run(checks[index], time.time())
        if not result.ok:
            raise RuntimeError(result.message)

    try:
        return await flat_out(request, concurrency, warmup, seconds)
    finally:
        await runner.aclose()


async def run_aiohttp(
    url: str, concurrency: int, warmup: float, seconds: float
) -> dict[str, float]:
    import aiohttp

    def rst_socket(info: Any) -> socket.socket:
        sock = socket.socket(info[0], info[1], info[2])
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_ZERO)
        return sock

    connector = aiohttp.TCPConnector(force_close=True, limit=0, socket_factory=rst_socket)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def request(index: int) -> None:
            async with session.get(url) as response:
                await response.read()
                if response.status != 200:
                    raise RuntimeError(f"status {response.status}")

        return await flat_out(request, concurrency, warmup, seconds)


async def run_pycurl(url: str, concurrency: int, warmup: float, seconds: float) -> dict[str, float]:
    """The least a CurlMulti on asyncio needs (no timings, no pool reset, no checks)."""
    import pycurl

    loop = asyncio.get_running_loop()
    multi = pycurl.CurlMulti()
    waiting: dict[Any, asyncio.Future[int]] = {}
    timer: list[asyncio.Handle | None] = [None]

    def act(fd: int, event: int) -> None:
        multi.socket_action(fd, event)
        while True:
            queued, succeeded, failed = multi.info_read()
            for curl in succeeded:
                multi.remove_handle(curl)
                waiting.pop(curl).set_result(0)
            for curl, code, _message in failed:
                multi.remove_handle(curl)
                waiting.pop(curl).set_result(code)
            if not queued:
                return

    def on_socket(what: int, fd: int, _multi: Any, _data: Any) -> None:
        if what == pycurl.POLL_REMOVE or not what & pycurl.POLL_IN:
            loop.remove_reader(fd)
        if what == pycurl.POLL_REMOVE or not what & pycurl.POLL_OUT:
            loop.remove_writer(fd)
        if what != pycurl.POLL_REMOVE:
            if what & pycurl.POLL_IN:
                loop.add_reader(fd, act, fd, pycurl.CSELECT_IN)
            if what & pycurl.POLL_OUT:
                loop.add_writer(fd, act, fd, pycurl.CSELECT_OUT)

    def on_timer(ms: int) -> None:
        if timer[0] is not None:
            timer[0].cancel()
        timer[0] = None if ms < 0 else loop.call_later(ms / 1000, act, pycurl.SOCKET_TIMEOUT, 0)

    def rst(fd: int, _purpose: int) -> int:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 0, fd)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_ZERO)
        sock.detach()
        return 0

    multi.setopt(pycurl.M_SOCKETFUNCTION, on_socket)
    multi.setopt(pycurl.M_TIMERFUNCTION, on_timer)
    handles = [pycurl.Curl() for _ in range(concurrency)]

    async def request(index: int) -> None:
        curl, body = handles[index], bytearray()
        curl.setopt(pycurl.URL, url)
        curl.setopt(pycurl.WRITEFUNCTION, body.extend)
        curl.setopt(pycurl.FRESH_CONNECT, 1)
        curl.setopt(pycurl.FORBID_REUSE, 1)
        curl.setopt(pycurl.SOCKOPTFUNCTION, rst)
        curl.setopt(pycurl.TIMEOUT_MS, 5000)
        future = loop.create_future()
        waiting[curl] = future
        multi.add_handle(curl)
        if await future or curl.getinfo(pycurl.RESPONSE_CODE) != 200:
            raise RuntimeError("request failed")

    try:
        return await flat_out(request, concurrency, warmup, seconds)
    finally:
        multi.close()


RUNNERS = {"nyxmon": run_nyxmon, "aiohttp": run_aiohttp, "pycurl": run_pycurl}


def client_main(name: str, url: str, concurrency: int, seconds: float) -> None:
    import uvloop

    figures = uvloop.run(RUNNERS[name](url, concurrency, 1.0, seconds))
    print(json.dumps(figures))


def measure(name: str, url: str, concurrency: int, seconds: float) -> dict[str, float]:
    options = ["--url", url, "--concurrency", str(concurrency), "--seconds", str(seconds)]
    out = subprocess.run(
        [sys.executable, __file__, "--client", name, *options],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"the {name} client failed:\n{out.stderr}")
    figures: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--client", choices=CLIENTS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        client_main(args.client, args.url, args.concurrency, args.seconds)
        return
    port = 19080 + os.getpid() % 1000
    url = f"http://127.0.0.1:{port}/"
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in CLIENTS}
    with tempfile.TemporaryDirectory(prefix="nyxmon-bench-") as tmp:
        nginx = start_nginx(Path(tmp), port)
        try:
            for _ in range(args.rounds):
                for name in CLIENTS:
                    runs[name].append(measure(name, url, args.concurrency, args.seconds))
        finally:
            nginx.send_signal(signal.SIGQUIT)
            nginx.wait(10)
    rate = {name: statistics.median(r["rate"] for r in runs[name]) for name in CLIENTS}
    cpu = {name: statistics.median(r["cpu_us"] for r in runs[name]) for name in CLIENTS}
    print(f"HTTP probe cost vs nginx on 127.0.0.1 ({machine()})")
    print(
        f"fresh connection per request, concurrency {args.concurrency}, uvloop, "
        f"{args.rounds} rounds of {args.seconds:g} s per client (median round)"
    )
    print(
        table(
            ["client", "requests/s", "CPU us/request", "rate vs aiohttp", "rounds /s"],
            [
                [
                    name,
                    rate[name],
                    cpu[name],
                    rate[name] / rate["aiohttp"],
                    " ".join(f"{r['rate']:.0f}" for r in runs[name]),
                ]
                for name in CLIENTS
            ],
        )
    )
    emit(
        {
            "concurrency": args.concurrency,
            "seconds": args.seconds,
            "rounds": args.rounds,
            **{f"{name}_per_s": round(rate[name], 1) for name in CLIENTS},
            **{f"{name}_cpu_us": round(cpu[name], 1) for name in CLIENTS},
            "nyxmon_vs_aiohttp": round(rate["nyxmon"] / rate["aiohttp"], 3),
            "nyxmon_vs_pycurl": round(rate["nyxmon"] / rate["pycurl"], 3),
        }
    )


if __name__ == "__main__":
    main()
