"""Rough probes-per-second of the http probe against a local target (not a test; no asserts).

Run: ``.venv/bin/python -m tests.integration.probes.measure_throughput [--uvloop]``. The target
runs in a separate process so that the figures are the client's, not a shared GIL's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time

from tests.servers.checks import make_check

from nyxmon.domain.model import Result
from nyxmon.probes.runner import AsyncCheckRunner


async def measure(url: str, count: int, limit: int, keep_alive: bool, conditions: bool) -> None:
    extra = ("[STATUS] == 200", "[BODY] == ok", "[RESPONSE_TIME] < 5000") if conditions else ()
    checks = [
        make_check("http", {"url": url, "keep_alive": keep_alive}, *extra, check_id=f"b.c{i}")
        for i in range(count)
    ]
    failures = 0

    def on_result(result: Result) -> None:
        nonlocal failures
        failures += not result.ok

    runner = AsyncCheckRunner(limit=limit)
    await runner.run_all(checks[:limit], on_result)  # warm-up: imports, TLS defaults
    started = time.perf_counter()
    await runner.run_all(checks, on_result)
    elapsed = time.perf_counter() - started
    mode = "keep-alive" if keep_alive else "fresh connection"
    print(
        f"{count} probes, {mode}, limit {limit}, conditions={conditions}: "
        f"{count / elapsed:,.0f} probes/s ({failures} not ok)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--uvloop", action="store_true")
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--limit", type=int, default=100)
    args = parser.parse_args()
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.servers.http_target"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        url = json.loads(server.stdout.readline())["url"] + "/health"

        async def all_modes() -> None:
            for keep_alive in (False, True):
                for conditions in (False, True):
                    await measure(url, args.count, args.limit, keep_alive, conditions)

        if args.uvloop:
            import uvloop

            uvloop.run(all_modes())
        else:
            asyncio.run(all_modes())
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
