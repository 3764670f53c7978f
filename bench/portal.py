"""Sync-to-async round trip: Runtime.call vs asyncio.run_coroutine_threadsafe vs anyio's portal.

All three drive the same kind of loop (uvloop where installed) on a thread of their own, and the
caller is one plain thread doing ``N`` sequential round trips of a trivial coroutine. Rounds are
interleaved (A, B, C, A, B, C, ...) so drift in machine load hits every contender alike.

Target (issue 3): Runtime.call p50 no slower than run_coroutine_threadsafe, and at least 2x faster
than anyio's BlockingPortal.call.

    .venv/bin/python bench/portal.py [--calls 20000] [--rounds 5] [--loop uvloop|asyncio]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import threading
import time
from collections.abc import Callable

from anyio.from_thread import start_blocking_portal

from _common import emit, machine, percentile, table
from nyxmon.runtime import Runtime


async def echo(value: int) -> int:
    return value


def measure(call: Callable[[int], int], calls: int) -> list[float]:
    samples = []
    clock = time.perf_counter_ns
    for i in range(calls):
        start = clock()
        if call(i) != i:
            raise AssertionError("wrong round-trip result")
        samples.append((clock() - start) / 1000.0)
    return samples


def raw_loop(use_uvloop: bool) -> tuple[asyncio.AbstractEventLoop, threading.Thread]:
    if use_uvloop:
        import uvloop

        loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    else:
        loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    return loop, thread


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    have_uvloop = importlib.util.find_spec("uvloop") is not None
    parser.add_argument("--calls", type=int, default=20_000, help="round trips per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--loop", choices=["uvloop", "asyncio"], default="uvloop" if have_uvloop else "asyncio"
    )
    args = parser.parse_args()
    use_uvloop = args.loop == "uvloop"

    runtime = Runtime(args.loop, name="bench").start()
    loop, thread = raw_loop(use_uvloop)
    portal_cm = start_blocking_portal("asyncio", {"use_uvloop": use_uvloop})
    portal = portal_cm.__enter__()

    contenders: dict[str, Callable[[int], int]] = {
        "Runtime.call": lambda i: runtime.call(echo, i),
        "run_coroutine_threadsafe": lambda i: asyncio.run_coroutine_threadsafe(
            echo(i), loop
        ).result(),
        "anyio BlockingPortal.call": lambda i: portal.call(echo, i),
    }
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for call in contenders.values():  # warm-up
        measure(call, 500)
    for _ in range(args.rounds):
        for name, call in contenders.items():
            samples[name].extend(measure(call, args.calls))

    portal_cm.__exit__(None, None, None)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    runtime.shutdown()

    rows = []
    for name, values in samples.items():
        rows.append(
            [
                name,
                len(values),
                percentile(values, 50),
                percentile(values, 99),
                percentile(values, 99.9),
            ]
        )
    print(f"sync -> async round trip on one {args.loop} loop thread ({machine()})")
    print(table(["contender", "calls", "p50 us", "p99 us", "p99.9 us"], rows))
    runtime_p50 = percentile(samples["Runtime.call"], 50)
    rcts_p50 = percentile(samples["run_coroutine_threadsafe"], 50)
    anyio_p50 = percentile(samples["anyio BlockingPortal.call"], 50)
    print(
        f"\nRuntime.call p50 vs run_coroutine_threadsafe: {rcts_p50 / runtime_p50:.2f}x "
        f"(target >= 1.0); vs anyio portal: {anyio_p50 / runtime_p50:.2f}x (target >= 2.0)"
    )
    emit(
        {
            "loop": args.loop,
            "calls": args.calls * args.rounds,
            "runtime_call_p50_us": round(runtime_p50, 2),
            "runtime_call_p99_us": round(percentile(samples["Runtime.call"], 99), 2),
            "rcts_p50_us": round(rcts_p50, 2),
            "rcts_p99_us": round(percentile(samples["run_coroutine_threadsafe"], 99), 2),
            "anyio_portal_p50_us": round(anyio_p50, 2),
            "anyio_portal_p99_us": round(percentile(samples["anyio BlockingPortal.call"], 99), 2),
            "speedup_vs_rcts": round(rcts_p50 / runtime_p50, 3),
            "speedup_vs_anyio_portal": round(anyio_p50 / runtime_p50, 3),
        }
    )


if __name__ == "__main__":
    main()
