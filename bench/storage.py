"""Benchmark: bytes per stored result, write cost and read timings, schema 7 against schema 6.

Run: ``.venv/bin/python bench/storage.py`` (the target scenario, a few minutes). Quicker looks:
``--checks 1000 --results 200000``.

What it does, all in one run and on one machine:

* **Mix** (the target: 1,000,000 results over 5,000 checks, about 3.3 simulated hours at one
  run a minute): mostly passing HTTP checks whose target, address and status stay the same;
  some with a body size that changes, some behind DNS round robin (the address changes), some
  flapping (about a sixth of their runs fail), a few always failing (refused, timed out), DNS
  and ICMP checks. Per-phase timings, messages ("200 OK in 42 ms") and details (status, size,
  URL, address, certificate days left) as the probes write them. Results go through the
  store's ``write_batch`` in batches of 100 in time order, as the agent's writer sends them,
  and ``rollup_step`` runs every simulated minute as the agent's cleaner timer runs it (which
  packs results an hour older than the rolled-up hours). The same results go through the
  schema-6 store (``tests.support.legacy_sqlite``, a frozen copy of the store before this
  change) into a second database.
* **Steady**: only passing checks whose target, address and status never change.
* **Bytes**: pages of the tables and indexes that hold results (``dbstat``), divided by the
  results held. Figures are "at rest": after the last hours are packed too (what all but the
  newest hour or two of a database kept for days consists of); the newest hours, still one
  row per result, are reported apart (``recent_bytes_per_result``).
* **Writes**: the CPU time of ``write_batch`` and of the rollup steps (which pack) per result;
  the agent's writer thread runs both, so ``writer_cpu_share`` is their sum at 1,000 results/s.
  The write rate flat out. Then 10 s paced at 1,000 results/s, the steps run between batches
  once a second, measuring that thread's CPU share directly (``paced_writer_cpu_share``; packing
  has little to do in those 10 s, so this mostly shows the write side).
* **Reads**, the same calls on both databases, interleaved: the check page's results (first
  page and three pages back by cursor), the 24 h (15 min steps, raw results) and 7 d (hourly)
  chart series, 24 h availability of one check, the overview's beats (30 newest results of
  200 checks) and their 24 h uptime. p50 and p99 per read; ``read_p99_ms`` is the worst p99.
  The reading thread's CPU time is taken too: on a shared machine its p50 ratio says more
  than wall time does.

The last line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from tests.support.legacy_sqlite import LegacySqliteStore

from _common import emit, machine, percentile, table
from nyxmon.domain.history.figures import DAY, HOUR
from nyxmon.domain.model import Check, CheckSource, Outcome, Result
from nyxmon.service_layer.records.batches import WriteBatch
from nyxmon.store.sqlite import SqliteStore
from nyxmon.store.sqlite.rollup_job import PACK_LAG
from nyxmon.store.sqlite.sizes import GROUPS
from nyxmon.web.pages.beats import BEATS, beats_of

T0 = 1_767_225_600.0  # 2026-01-01 00:00 UTC
INTERVAL = 60.0
BATCH = 100
SETTLE = 300.0
ROLLUP_ROWS = 10_000  # what the agent's cleaner passes per step
#: (kind, share of checks)
MIX = (
    ("steady", 0.80),
    ("size", 0.04),
    ("round_robin", 0.05),
    ("flappy", 0.03),
    ("failing", 0.005),
    ("dns", 0.045),
    ("icmp", 0.03),
)


# -- the results ---------------------------------------------------------------------------


@dataclass(slots=True)
class Target:
    check_id: str
    kind: str
    phase: float
    rng: random.Random
    cert_end: float
    ips: tuple[str, ...]
    interval: float = INTERVAL


def _targets(count: int, steady_only: bool, interval: float = INTERVAL) -> list[Target]:
    rng = random.Random(42)
    kinds: list[str] = []
    for kind, share in MIX:
        kinds += [kind] * round(share * count)
    kinds = (kinds + ["steady"] * count)[:count]
    rng.shuffle(kinds)
    out = []
    for i, kind in enumerate(kinds):
        kind = "steady" if steady_only else kind
        out.append(
            Target(
                check_id=f"svc{i // 25}.check{i}",
                kind=kind,
                phase=rng.uniform(0, interval),
                rng=random.Random(i),
                cert_end=T0 + rng.uniform(5, 90) * DAY,
                ips=tuple(f"10.{i % 250}.{j}.{rng.randrange(1, 250)}" for j in range(4)),
                interval=interval,
            )
        )
    return out


def _http(target: Target, t: float, *, size: int = 5120, ip: str | None = None) -> Result:
    rng = target.rng
    dns = rng.uniform(0.0001, 0.0005)
    connect = max(0.0002, rng.gauss(0.0012, 0.0003))
    tls = max(0.001, rng.gauss(0.010, 0.002))
    first_byte = dns + connect + tls + max(0.002, rng.gauss(0.020, 0.005))
    total = first_byte + max(0.0001, rng.gauss(0.002, 0.0005))
    details: dict[str, Any] = {
        "status": 200,
        "size": size,
        "url": f"https://{target.check_id.replace('.', '-')}.example.com/health",
        "ip": ip or target.ips[0],
        "cert_expires_at": target.cert_end,
        "cert_days_left": round((target.cert_end - t) / DAY, 2),
    }
    timings = {"dns": dns, "connect": connect, "tls": tls, "first_byte": first_byte}
    timings["total"] = total
    if target.kind == "flappy" and rng.random() < 0.17:
        details["status"] = 503
        details["failed_conditions"] = ["[STATUS] == 200"]
        return _result(
            target, t, total, Outcome.FAIL, "status 503 (Service Unavailable)", timings, details
        )
    return _result(
        target, t, total, Outcome.OK, f"200 OK in {total * 1000:.0f} ms", timings, details
    )


def _result(
    target: Target,
    t: float,
    total: float,
    outcome: Outcome,
    message: str,
    timings: dict[str, float],
    details: dict[str, Any],
) -> Result:
    lag = target.rng.uniform(0.0, 0.004)
    return Result(
        check_id=target.check_id,
        scheduled_at=t,
        started_at=t + lag,
        duration=total + 0.0002,
        outcome=outcome,
        message=message,
        timings=timings,
        details=details,
    )


def make_result(target: Target, t: float) -> Result:
    """One run of ``target`` due at ``t``, as its probe would report it."""
    rng = target.rng
    kind = target.kind
    if kind in ("steady", "flappy"):
        return _http(target, t)
    if kind == "size":
        return _http(target, t, size=rng.randrange(10_000, 60_000))
    if kind == "round_robin":
        return _http(target, t, ip=rng.choice(target.ips))
    if kind == "failing":
        if rng.random() < 0.5:
            connect = rng.uniform(0.0002, 0.002)
            return _result(
                target,
                t,
                connect,
                Outcome.ERROR,
                f"cannot connect to {target.ips[0]}:443: Connection refused",
                {"dns": 0.0003, "connect": connect, "total": connect},
                {"url": f"https://{target.check_id}.example.com/"},
            )
        return _result(
            target,
            t,
            5.0 + rng.uniform(0, 0.01),
            Outcome.TIMEOUT,
            "no answer within 5 s",
            {"dns": 0.0003, "total": 5.0},
            {"url": f"https://{target.check_id}.example.com/"},
        )
    if kind == "dns":
        query = max(0.0003, rng.gauss(0.004, 0.001))
        ips = sorted(rng.sample(target.ips, 2))
        return _result(
            target,
            t,
            query,
            Outcome.OK,
            f"2 answers in {query * 1000:.0f} ms",
            {"query": query, "total": query},
            {
                "rcode": "NOERROR",
                "answers": ips,
                "ips": ips,
                "server": "10.0.0.53:53",
                "protocol": "udp",
            },
        )
    rtts = [max(0.0001, rng.gauss(0.0008, 0.0002)) * 1000 for _ in range(3)]
    avg = sum(rtts) / 3
    stats = {
        "rtt_min_ms": round(min(rtts), 3),
        "rtt_avg_ms": round(avg, 3),
        "rtt_max_ms": round(max(rtts), 3),
        "rtt_mdev_ms": round(statistics.pstdev(rtts), 3),
    }
    return _result(
        target,
        t,
        max(rtts) / 1000,
        Outcome.OK,
        f"3/3 replies from {target.ips[0]}, 0% loss, rtt {stats['rtt_min_ms']:.1f}/"
        f"{stats['rtt_avg_ms']:.1f}/{stats['rtt_max_ms']:.1f}/{stats['rtt_mdev_ms']:.1f} ms"
        " (dgram socket)",
        {"rtt": avg / 1000},
        {"ip": target.ips[0], "socket": "dgram", "sent": 3, "received": 3, "packet_loss": 0.0}
        | stats,
    )


def batches(
    targets: Sequence[Target], runs: int, start: float
) -> Iterator[tuple[float, list[Result]]]:
    """``(simulated now, batch)`` for ``runs`` rounds of every check, in time order."""
    pending: list[Result] = []
    interval = targets[0].interval
    for n in range(runs):
        base = start + n * interval
        due = sorted(targets, key=lambda tg: tg.phase)
        for target in due:
            pending.append(make_result(target, base + target.phase))
            if len(pending) == BATCH:
                yield pending[-1].started_at, pending
                pending = []
    if pending:
        yield pending[-1].started_at, pending


# -- writing ---------------------------------------------------------------------------------


@dataclass
class Written:
    results: int = 0
    write_cpu: float = 0.0
    write_wall: float = 0.0
    upkeep_cpu: float = 0.0
    end: float = 0.0


def _add_checks(store: Any, targets: Sequence[Target]) -> None:
    with store.transaction() as tx:
        for target in targets:
            service, _, name = target.check_id.partition(".")
            tx.checks.upsert(
                Check(
                    id=target.check_id,
                    service=service,
                    name=name,
                    type="http",
                    interval=target.interval,
                    timeout=5.0,
                    params={"url": f"https://{service}.example/{name}"},
                    source=CheckSource.API,
                )
            )
        tx.commit()


def _roll(store: Any, now: float, written: Written) -> None:
    started = time.thread_time()
    while store.rollup_step(now, max_rows=ROLLUP_ROWS).more:
        pass
    written.upkeep_cpu += time.thread_time() - started


def write(stores: Sequence[Any], targets: Sequence[Target], results: int) -> list[Written]:
    """The same batches into every store; rollups each simulated minute; then settle."""
    for store in stores:
        _add_checks(store, targets)
    figures = [Written() for _ in stores]
    runs = -(-results // len(targets))
    next_roll = T0 + INTERVAL
    now = T0
    for now, batch in batches(targets, runs, T0):
        if now >= next_roll:
            for store, written in zip(stores, figures, strict=True):
                _roll(store, now, written)
            next_roll += INTERVAL
        for store, written in zip(stores, figures, strict=True):
            cpu, wall = time.thread_time(), time.perf_counter()
            store.write_batch(WriteBatch(batch))
            written.write_cpu += time.thread_time() - cpu
            written.write_wall += time.perf_counter() - wall
            written.results += len(batch)
    for written in figures:
        written.end = now
    return figures


def settle(stores: Sequence[Any], figures: Sequence[Written]) -> None:
    """Roll up (and pack) every hour, as the agent will an hour later."""
    for store, written in zip(stores, figures, strict=True):
        _roll(store, written.end + PACK_LAG + HOUR + SETTLE + 1, written)


def result_bytes(path: Path, names: Sequence[str]) -> int:
    conn = sqlite3.connect(path)
    sizes = dict(conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall())
    conn.close()
    return int(sum(sizes.get(name, 0) for name in names))


NEW_TABLES = GROUPS["recent"] + GROUPS["packed"]
OLD_TABLES = ("results", "results_by_check_time", "results_by_time")


def paced(store: SqliteStore, targets: Sequence[Target], start: float, seconds: float) -> float:
    """The writer thread's CPU share writing 1,000 results/s for ``seconds``, running the
    rollup (and packing) steps between batches once a second as the agent's writer thread
    does (the cleaner hands them to it)."""
    source = batches(targets, 10**6, start)
    cpu, wall = time.thread_time(), time.perf_counter()
    next_at = next_upkeep = wall
    while time.perf_counter() - wall < seconds:
        now, batch = next(source)
        store.write_batch(WriteBatch(batch))
        if time.perf_counter() >= next_upkeep:
            while store.rollup_step(now, max_rows=ROLLUP_ROWS).more:
                pass
            next_upkeep += 1.0
        next_at += len(batch) / 1000
        delay = next_at - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
    return (time.thread_time() - cpu) / (time.perf_counter() - wall)


# -- reading ---------------------------------------------------------------------------------


@dataclass
class Timings:
    samples: dict[str, list[float]] = field(default_factory=dict)
    cpu: dict[str, list[float]] = field(default_factory=dict)

    def time(self, name: str, fn: Callable[[], object]) -> object:
        started, cpu = time.perf_counter(), time.thread_time()
        value = fn()
        self.cpu.setdefault(name, []).append((time.thread_time() - cpu) * 1000)
        self.samples.setdefault(name, []).append((time.perf_counter() - started) * 1000)
        return value


def _deep_page(store: Any, check_id: str) -> object:
    page = store.results(check_id, limit=20)
    for _ in range(3):
        page = store.results(check_id, limit=20, after=page.next_cursor)
    return page


def _beats(store: Any, check_ids: list[str], now: float) -> object:
    """The overview's beats read. Schema 6's store has no ``recent_points``: there the read
    is what ``beats_of`` did before it, full results (messages, timings and details decoded)
    reduced to beats, so the comparison is the read a user waited for then and now."""
    if not isinstance(store, LegacySqliteStore):
        return beats_of(store, check_ids, now=now)
    recent = store.recent_results(check_ids, limit=BEATS)
    uptime = store.uptime_many(check_ids, now=now, window=DAY)
    return {
        check_id: (
            [
                [round(s.result.started_at, 3), s.result.ok, round(s.result.duration * 1000, 1)]
                for s in reversed(recent.get(check_id, ()))
            ],
            day.pct if (day := uptime.get(check_id)) is not None else None,
        )
        for check_id in check_ids
    }


def reads(
    stores: dict[str, Any], targets: Sequence[Target], now: float, rounds: int
) -> dict[str, Timings]:
    rng = random.Random(1)
    ids = [t.check_id for t in targets]
    out = {name: Timings() for name in stores}
    day_start = (now - DAY) // 900 * 900 + 900
    week_start = (now - 7 * DAY) // HOUR * HOUR + HOUR
    calls: list[tuple[str, Callable[[Any, str, list[str]], object]]] = [
        ("results page", lambda s, c, _: s.results(c, limit=20)),
        ("results page 4 (cursor)", lambda s, c, _: _deep_page(s, c)),
        ("series 24 h", lambda s, c, _: s.series(c, start=day_start, end=now, step=900.0)),
        ("series 7 d", lambda s, c, _: s.series(c, start=week_start, end=now, step=HOUR)),
        ("availability 24 h", lambda s, c, _: s.availability(c, now=now, window=DAY)),
        ("beats (200 checks)", lambda s, _, p: _beats(s, p, now)),
        ("uptime 24 h (200 checks)", lambda s, _, p: s.uptime_many(p, now=now, window=DAY)),
        (f"uptime 24 h (all {len(ids):,})", lambda s, *_: s.uptime_many(ids, now=now, window=DAY)),
    ]
    for _ in range(rounds):
        check_id = rng.choice(ids)
        first = rng.randrange(0, max(1, len(ids) - 200))
        screen = ids[first : first + 200]
        for name, call in calls:
            for label in rng.sample(list(stores), len(stores)):
                store = stores[label]
                out[label].time(name, lambda c=call, s=store, i=check_id, p=screen: c(s, i, p))
    return out


def _read_table(title: str, timings: dict[str, Timings]) -> dict[str, dict[str, float]]:
    """Print one table of read timings, new against old; the figures per read."""
    rows = []
    out: dict[str, dict[str, float]] = {}
    for name, samples in timings["new"].samples.items():
        before = timings["old"].samples[name]
        p50, p99 = percentile(samples, 50), percentile(samples, 99)
        b50, b99 = percentile(before, 50), percentile(before, 99)
        c50 = percentile(timings["new"].cpu[name], 50)
        cb50 = percentile(timings["old"].cpu[name], 50)
        rows.append([name, p50, b50, p50 / b50, c50 / cb50, p99, b99])
        out[name] = {
            "p50_ms": round(p50, 3),
            "p99_ms": round(p99, 3),
            "baseline_p50_ms": round(b50, 3),
            "baseline_p99_ms": round(b99, 3),
            "cpu_p50_ms": round(c50, 3),
            "baseline_cpu_p50_ms": round(cb50, 3),
        }
    print(title)
    print(
        table(
            ["read", "p50 ms", "old p50 ms", "p50 new/old", "CPU p50 new/old", "p99 ms", "old p99"],
            rows,
        )
    )
    print()
    return out


def wide(
    folder: Path, checks: int, interval: float, hours: float, rounds: int
) -> tuple[Written, dict[str, Timings]]:
    """The reads again on a database of ``checks`` checks (one run every ``interval`` s for
    ``hours``, so the older hours are packed), both schemas: the overview's beats and uptime
    figures must not slow down with the number of checks."""
    targets = _targets(checks, steady_only=False, interval=interval)
    results = checks * round(hours * HOUR / interval)
    print(f"writing {results:,} results over {checks:,} checks (every {interval:.0f} s)...")
    new = SqliteStore(folder / "wide-new.db", rollup_settle=SETTLE)
    old = LegacySqliteStore(folder / "wide-old.db", rollup_settle=SETTLE)
    written, _ = write([new, old], targets, results)
    print("reading both...")
    timings = reads({"new": new, "old": old}, targets, written.end, rounds)
    new.close()
    old.close()
    return written, timings


# -- the run ---------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checks", type=int, default=5_000)
    parser.add_argument("--results", type=int, default=1_000_000)
    parser.add_argument("--steady-checks", type=int, default=500)
    parser.add_argument("--read-rounds", type=int, default=40)
    parser.add_argument("--paced-seconds", type=float, default=10.0)
    parser.add_argument("--wide-checks", type=int, default=20_000)
    parser.add_argument("--wide-interval", type=float, default=300.0)
    parser.add_argument("--wide-hours", type=float, default=3.0)
    args = parser.parse_args()
    begun = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="nyxmon-bench-storage-") as folder:
        here = Path(folder)
        targets = _targets(args.checks, steady_only=False)
        new_path, old_path, steady_path = here / "new.db", here / "old.db", here / "steady.db"
        new = SqliteStore(new_path, rollup_settle=SETTLE)
        old = LegacySqliteStore(old_path, rollup_settle=SETTLE)
        print(f"writing {args.results:,} results over {args.checks:,} checks into both schemas...")
        mix_new, mix_old = write([new, old], targets, args.results)
        live_bytes = result_bytes(new_path, NEW_TABLES)
        live_info = new.db_info().storage
        # Read as the dashboard does while the agent runs: the newest hour or two still rows.
        print("reading both...")
        timings = reads({"new": new, "old": old}, targets, mix_new.end, args.read_rounds)
        settle([new, old], [mix_new, mix_old])
        now = mix_new.end + PACK_LAG + HOUR + SETTLE + 1
        new_bytes = result_bytes(new_path, NEW_TABLES)
        old_bytes = result_bytes(old_path, OLD_TABLES)
        info = new.db_info()
        print("writing 1,000 results/s for a while...")
        paced_share = paced(new, targets, now + HOUR, args.paced_seconds)
        new.close()
        old.close()
        new_file = os.path.getsize(new_path)
        old_file = os.path.getsize(old_path)

        steady_targets = _targets(args.steady_checks, steady_only=True)
        steady_results = args.results * args.steady_checks // args.checks
        print(f"writing {steady_results:,} steady results over {args.steady_checks:,} checks...")
        with SqliteStore(steady_path, rollup_settle=SETTLE) as steady:
            (steady_written,) = write([steady], steady_targets, steady_results)
            settle([steady], [steady_written])
        steady_bytes = result_bytes(steady_path, NEW_TABLES)
        steady_path.unlink()
        wide_written, wide_timings = wide(
            here, args.wide_checks, args.wide_interval, args.wide_hours, args.read_rounds
        )

    results = mix_new.results
    per_result_new = new_bytes / results
    per_result_old = old_bytes / results
    steady_per_result = steady_bytes / steady_written.results
    assert live_info is not None
    assert info.storage is not None
    recent_per_result = (
        live_info.recent_bytes / live_info.recent_results if live_info.recent_results else 0.0
    )
    # The agent's writer thread runs the rollup (and packing) steps too.
    writer_share = (mix_new.write_cpu + mix_new.upkeep_cpu) / results * 1000
    print()
    print(
        table(
            ["figure", "schema 7", "schema 6"],
            [
                ["results", results, mix_old.results],
                ["bytes/result, mix (at rest)", per_result_new, per_result_old],
                ["bytes/result, steady (at rest)", steady_per_result, "-"],
                ["bytes/result, mix, before the last hours were packed", live_bytes / results, "-"],
                ["bytes/result of the recent (unpacked) rows", recent_per_result, "-"],
                ["file size/result", new_file / results, old_file / results],
                [
                    "write rate flat out (results/s)",
                    results / mix_new.write_wall,
                    results / mix_old.write_wall,
                ],
                [
                    "writer CPU per result (µs)",
                    mix_new.write_cpu / results * 1e6,
                    mix_old.write_cpu / results * 1e6,
                ],
                [
                    "rollup (+ pack) CPU per result (µs)",
                    mix_new.upkeep_cpu / results * 1e6,
                    mix_old.upkeep_cpu / results * 1e6,
                ],
            ],
        )
    )
    print()
    reads_out = _read_table(f"reads at {args.checks:,} checks", timings)
    wide_out = _read_table(f"reads at {args.wide_checks:,} checks", wide_timings)
    every_read = (*reads_out.values(), *wide_out.values())
    read_p99 = max(r["p99_ms"] for r in every_read)
    base_p99 = max(r["baseline_p99_ms"] for r in every_read)
    worst_cpu = max(r["cpu_p50_ms"] / r["baseline_cpu_p50_ms"] for r in every_read)
    print(
        f"paced 1,000 results/s: writer thread CPU share {paced_share:.3f}; "
        f"run took {time.perf_counter() - begun:.0f} s"
    )
    emit(
        {
            "results": results,
            "checks": args.checks,
            "bytes_per_result_steady": round(steady_per_result, 2),
            "bytes_per_result_mix": round(per_result_new, 2),
            "baseline_bytes_per_result": round(per_result_old, 2),
            "bytes_per_result_mix_before_last_pack": round(live_bytes / results, 2),
            "recent_bytes_per_result": round(recent_per_result, 2),
            "file_bytes_per_result": round(new_file / results, 2),
            "baseline_file_bytes_per_result": round(old_file / results, 2),
            "write_rate": round(results / mix_new.write_wall),
            "baseline_write_rate": round(results / mix_old.write_wall),
            "writer_cpu_share": round(writer_share, 4),
            "write_cpu_us_per_result": round(mix_new.write_cpu / results * 1e6, 2),
            "paced_writer_cpu_share": round(paced_share, 4),
            "upkeep_cpu_us_per_result": round(mix_new.upkeep_cpu / results * 1e6, 2),
            "read_p99_ms": round(read_p99, 3),
            "baseline_read_p99_ms": round(base_p99, 3),
            "read_cpu_p50_ratio_max": round(worst_cpu, 3),
            "reads": reads_out,
            "wide_checks": args.wide_checks,
            "wide_results": wide_written.results,
            "wide_reads": wide_out,
            "machine": machine(),
        }
    )


if __name__ == "__main__":
    main()
