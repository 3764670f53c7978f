"""Shared helpers for the benchmarks: percentiles, a readable table, the final JSON line."""

from __future__ import annotations

import json
import os
import platform
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of unsorted ``values`` (0.0 when empty)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[min(len(ordered), int(rank)) - 1]


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
    }


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A plain fixed-width table; numbers are right-aligned."""
    cells = [[_fmt(c) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    for row in cells:
        out.append(
            "  ".join(
                c.rjust(w) if _numeric(c) else c.ljust(w) for c, w in zip(row, widths, strict=True)
            )
        )
    return "\n".join(out)


def emit(figures: Mapping[str, Any]) -> None:
    """Print the figures as the benchmark's last line: one JSON object."""
    print(json.dumps(dict(figures), sort_keys=True))


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) >= 10 else f"{value:.3f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _numeric(text: str) -> bool:
    return text.replace(",", "").replace(".", "").replace("-", "").isdigit()


def start_lags(db: Any, t0: float, t1: float) -> list[float]:
    """Start lag (ms) of every run due in ``[t0, t1)``, read through the store (whatever its
    schema) rather than with SQL of our own."""
    from nyxmon.store.sqlite import SqliteStore

    lags: list[float] = []
    with SqliteStore(str(db), readonly=True) as store:
        for check in store.list_checks().items:
            cursor = None
            while True:
                page = store.results(
                    check.id, since=t0 - 60, until=t1 + 60, limit=1000, after=cursor
                )
                for stored in page.items:
                    result = stored.result
                    if t0 <= result.scheduled_at < t1:
                        lags.append(result.start_lag * 1000)
                cursor = page.next_cursor
                if cursor is None:
                    break
    return lags
